/**
 * The single endpoint of the offline twin: one HTTP port that forwards each request to the local service
 * it is meant for, chosen by the service in its SigV4 credential scope (`Credential=AKID/date/region/
 * <service>/aws4_request`, in the Authorization header or the presigned URL's X-Amz-Credential), as
 * AWS's own local tools do. Requests are streamed through unchanged (Host included: S3 verifies the
 * signature over it), so every AWS client works with `--endpoint-url`.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { answerFault, FaultInjector, operationOf, parseFaults } from './faults';
import { accessKeyOf, answerAccessDenied, evaluate, type Identity } from './iam';
import { authorizationOf, needsBody, type ArnContext } from './requests';

export type ServiceName = 's3' | 'dynamodb' | 'kinesis' | 'rekognition' | 'sns' | 'sqs' | 'kinesisvideo' | (string & {});

export interface GatewayOptions {
  port?: number;
  host?: string;
  /** Base URL of each backend, by SigV4 service name. */
  services: Partial<Record<ServiceName, string>>;
  onError?: (error: unknown) => void;
  /** Sees every completed request/response pair (bodies up to OBSERVED_BODY_BYTES; media streams without them). */
  observe?: (exchange: Exchange) => void;
  /** Which bodies the observer reads, per service (default both): the others are passed through without a copy. */
  observedBodies?: (service: ServiceName) => { request: boolean; response: boolean };
  /** Fault injection (local/gateway/faults.ts); the control route /_facewatch/faults changes its rules. */
  faults?: FaultInjector;
  /** A request IAM denied (local/gateway/iam.ts). */
  onDenied?: (denial: { accessKeyId: string; principalArn: string; action: string; resource: string }) => void;
}

/** One request through the gateway, as the usage meter reads it. */
export interface Exchange {
  service: ServiceName;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  requestBody: Buffer;
  status: number;
  responseBody: Buffer;
}

/** Bodies larger than this are not kept for the observer (media uploads and downloads): only their size counts. */
const OBSERVED_BODY_BYTES = 16 * 1024 * 1024;
const MEDIA_STREAM = /^\/(putMedia|getMedia)\b/;

/** Collects a stream's chunks up to a cap (none when `keep` is false). */
function collector(keep = true) {
  const chunks: Buffer[] = [];
  let bytes = 0;
  return {
    add(chunk: Buffer) {
      if (!keep) return;
      bytes += chunk.length;
      if (bytes <= OBSERVED_BODY_BYTES) chunks.push(chunk);
    },
    body: () => (bytes <= OBSERVED_BODY_BYTES ? Buffer.concat(chunks) : Buffer.alloc(0)),
  };
}

export interface Gateway {
  url: string;
  port: number;
  faults: FaultInjector;
  /** IAM: the identities (by access key id) whose requests are checked against their policy; other keys may do anything. */
  setIdentities(identities: Map<string, Identity>, context: ArnContext): void;
  /** Adds or replaces a backend while running. */
  setService(name: ServiceName, url: string): void;
  close(): Promise<void>;
}

const TARGET_PREFIXES: [string, ServiceName][] = [
  ['DynamoDB_', 'dynamodb'],
  ['DynamoDBStreams_', 'dynamodb'],
  ['Kinesis_', 'kinesis'],
  ['RekognitionService.', 'rekognition'],
  ['AmazonSQS.', 'sqs'],
];

/** Kinesis Video's REST paths (control plane, media, archived media). */
const KINESIS_VIDEO_PATH =
  /^\/(createStream|describeStream|listStreams|deleteStream|updateStream|getDataEndpoint|tagStream|untagStream|listTagsForStream|updateDataRetention|putMedia|getMedia|getImages|listFragments|getMediaForFragmentList|getHLSStreamingSessionURL|getDASHStreamingSessionURL|getClip)\b/;

/** The service a request is for, from its signature; undefined when unsigned and not recognisable. */
export function serviceOf(req: Pick<http.IncomingMessage, 'headers' | 'url' | 'method'>): ServiceName | undefined {
  const authorization = String(req.headers.authorization ?? '');
  const scope = authorization.match(/Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/);
  if (scope) return scope[1];
  const url = new URL(req.url ?? '/', 'http://localhost');
  const credential = url.searchParams.get('X-Amz-Credential');
  if (credential) {
    const parts = credential.split('/');
    if (parts.length >= 5) return parts[3];
  }
  // SigV2 presigned S3 URLs and unsigned requests: recognise the protocol instead.
  if (url.searchParams.has('AWSAccessKeyId') || /^AWS [^:]+:/.test(authorization)) return 's3';
  const target = String(req.headers['x-amz-target'] ?? '');
  for (const [prefix, service] of TARGET_PREFIXES) if (target.startsWith(prefix)) return service;
  if (KINESIS_VIDEO_PATH.test(url.pathname)) return 'kinesisvideo';
  const contentType = String(req.headers['content-type'] ?? '');
  if (url.searchParams.has('Action') || (req.method === 'POST' && url.pathname === '/' && contentType.startsWith('application/x-www-form-urlencoded'))) {
    return 'sns';
  }
  return undefined;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const services = new Map<string, string>(Object.entries(options.services).filter((e): e is [string, string] => typeof e[1] === 'string'));
  const onError = options.onError ?? ((error) => console.error('[gateway]', error));
  const faults = options.faults ?? new FaultInjector();
  let identities = new Map<string, Identity>();
  let arnContext: ArnContext = { region: 'us-east-1', accountId: '000000000000' };

  const reply = (res: http.ServerResponse, status: number, body: unknown) => {
    if (res.headersSent) return res.destroy();
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/_facewatch/health' && !req.headers.authorization) {
      reply(res, 200, { status: 'running', services: Object.fromEntries([...services.keys()].map((s) => [s, 'running'])) });
      return;
    }
    if (url.pathname === '/_facewatch/faults' && !req.headers.authorization) {
      controlFaults(req, res);
      return;
    }
    // Anything not recognisable is an S3 request (its unsigned form is a plain GET/PUT on /bucket/key).
    const service = serviceOf(req) ?? 's3';
    const backend = services.get(service);
    if (!backend) {
      reply(res, 400, {
        __type: 'UnknownServiceException',
        message: `The local stack does not serve "${service}". It serves: ${[...services.keys()].join(', ')}.`,
      });
      req.resume();
      return;
    }
    // A browser's CORS preflight carries a presigned URL's query but is not the signed request: AWS answers it from
    // the bucket's CORS rules without authenticating it, so no IAM check here either.
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    const key = preflight ? undefined : accessKeyOf(req);
    const identity = key ? identities.get(key) : undefined;
    // The query protocol (SNS) names its operation in the body; IAM needs the resource from the body too.
    const wantBody = (identity && needsBody(service, req.url ?? '/', req.method)) || (faults.covers(service) && !req.headers['x-amz-target'] && service === 'sns');
    const proceed = (body?: Buffer) => {
      if (identity) {
        const asked = authorizationOf(service, req, body, arnContext);
        // Every action the request needs must be allowed (CopyObject: the write and the read of its source).
        const decision = [asked, ...(asked.also ?? [])].map((a) => evaluate(identity.statements, a.action, a.resources)).find((d) => !d.allowed) ?? { allowed: true as const };
        if (!decision.allowed) {
          if (!body) req.resume();
          options.onDenied?.({ accessKeyId: key!, principalArn: identity.principalArn, action: decision.action, resource: decision.resource });
          answerAccessDenied(res, service, identity.principalArn, decision);
          return;
        }
      }
      if (faults.covers(service)) {
        const operation = operationOf(req, body);
        const fault = faults.decide(service, operation);
        const go = () => {
          if (fault?.error) {
            if (!body) req.resume();
            answerFault(res, service, operation, fault.error);
          } else proxy(req, res, service, backend, url, body);
        };
        if (fault?.latencyMs) setTimeout(go, fault.latencyMs);
        else go();
        return;
      }
      proxy(req, res, service, backend, url, body);
    };
    if (wantBody) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => proceed(Buffer.concat(chunks)));
    } else proceed();
  });

  function controlFaults(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        if (req.method === 'PUT' || req.method === 'POST') faults.set(parseFaults(Buffer.concat(chunks).toString('utf8') || '[]'));
        else if (req.method === 'DELETE') faults.set([]);
        else if (req.method !== 'GET') {
          reply(res, 405, { __type: 'MethodNotAllowed', message: 'GET lists the fault rules, PUT/POST replaces them ({"rules":[...]}), DELETE clears them' });
          return;
        }
        reply(res, 200, { rules: faults.list() });
      } catch (error) {
        reply(res, 400, { __type: 'ValidationException', message: (error as Error).message });
      }
    });
  }

  function proxy(req: http.IncomingMessage, res: http.ServerResponse, service: ServiceName, backend: string, url: URL, bufferedBody?: Buffer): void {
    const target = new URL(backend);
    const headers = { ...req.headers };
    // The backend answers 100-continue itself when needed; the client already got ours.
    delete headers.expect;
    const bodies = options.observedBodies?.(service) ?? { request: true, response: true };
    const observed = options.observe && !MEDIA_STREAM.test(url.pathname) ? { request: collector(bodies.request), response: collector(bodies.response) } : undefined;
    if (observed && bufferedBody) observed.request.add(bufferedBody);
    else if (observed) req.on('data', (chunk: Buffer) => observed.request.add(chunk));
    const forward = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      (upstream) => {
        res.writeHead(upstream.statusCode ?? 502, upstream.statusMessage, upstream.headers);
        if (observed) {
          upstream.on('data', (chunk: Buffer) => observed.response.add(chunk));
          upstream.on('end', () => {
            try {
              options.observe!({
                service,
                method: req.method ?? 'GET',
                url: req.url ?? '/',
                headers: req.headers,
                requestBody: observed.request.body(),
                status: upstream.statusCode ?? 0,
                responseBody: observed.response.body(),
              });
            } catch (error) {
              onError(error);
            }
          });
        }
        upstream.pipe(res);
        upstream.on('error', (error) => {
          onError(error);
          res.destroy();
        });
      },
    );
    forward.on('error', (error) => {
      onError(error);
      reply(res, 502, { __type: 'ServiceUnavailableException', message: `The local ${service} service did not answer: ${error.message}` });
    });
    if (bufferedBody) forward.end(bufferedBody);
    else req.pipe(forward);
    res.on('close', () => {
      // The client went away (e.g. a stopped GetMedia): stop the upstream request too.
      if (!res.writableFinished) forward.destroy();
    });
  }
  // Long-lived media requests (PutMedia, GetMedia) must not be cut by the default timeouts.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      server.on('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    faults,
    setIdentities: (map, context) => {
      identities = map;
      arnContext = context;
    },
    setService: (name, url) => services.set(name, url),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
