/**
 * A local, Rekognition-compatible HTTP endpoint (AWS JSON 1.1: POST /, X-Amz-Target:
 * RekognitionService.<Operation>). Any SigV4 credentials are accepted (signatures are not verified); the
 * region comes from the credential scope.
 */
import crypto from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RekognitionError, imageTooLarge, internal } from './errors';
import { RekognitionService, type ServiceOptions } from './service';

const MAX_BODY = 16 * 1024 * 1024;
const CONTENT_TYPE = 'application/x-amz-json-1.1';

/** Region from `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/<region>/rekognition/aws4_request, ...`. */
export function regionFromAuthorization(auth: string | undefined, fallback: string): string {
  const m = /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\//.exec(auth ?? '');
  return m ? m[1] : fallback;
}

function send(res: ServerResponse, status: number, body: object, requestId: string, errorType?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => (tooLarge ? reject(imageTooLarge()) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The node http handler for a service (mount it on any server or gateway). */
export function createRequestHandler(service: RekognitionService, defaultRegion = 'us-east-1'): RequestHandler {
  return (req, res) => {
    const requestId = crypto.randomUUID();
    void (async () => {
      try {
        if (req.method !== 'POST') {
          if (req.method === 'GET' && (req.url === '/' || req.url === '/health')) {
            send(res, 200, { service: 'rekognition', operations: service.operations }, requestId);
            return;
          }
          throw new RekognitionError('UnknownOperationException', `Method ${req.method} is not supported`);
        }
        const target = String(req.headers['x-amz-target'] ?? '');
        const m = /^RekognitionService\.(\w+)$/.exec(target);
        if (!m) throw new RekognitionError('UnknownOperationException', `Unknown target: ${target || '(none)'}`);
        const raw = await readBody(req);
        let body: Record<string, unknown>;
        try {
          body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
        } catch {
          throw new RekognitionError('SerializationException', 'Request body is not valid JSON');
        }
        const region = regionFromAuthorization(req.headers.authorization, defaultRegion);
        const result = await service.call(m[1], body, { region });
        send(res, 200, result, requestId);
      } catch (err) {
        const e = err instanceof RekognitionError ? err : internal(err instanceof Error ? err.message : String(err));
        if (!(err instanceof RekognitionError)) console.error('[rekognition] internal error:', err);
        if (!res.headersSent) send(res, e.status, e.toBody(), requestId, e.type);
        else res.end();
      }
    })();
  };
}

export interface StartOptions extends Omit<ServiceOptions, 'dataDir'> {
  port?: number;
  host?: string;
  dataDir: string;
  /** Load the face models before resolving (default true). */
  warmUp?: boolean;
}

export interface RunningRekognition {
  url: string;
  port: number;
  service: RekognitionService;
  handler: RequestHandler;
  close(): Promise<void>;
}

export async function startRekognitionServer(opts: StartOptions): Promise<RunningRekognition> {
  const region = opts.region ?? 'us-east-1';
  const service = new RekognitionService({ ...opts, region });
  const handler = createRequestHandler(service, region);
  const server = http.createServer(handler);
  server.keepAliveTimeout = 5000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  if (opts.warmUp !== false) await service.warmUp();
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    service,
    handler,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await service.close();
    },
  };
}

export { RekognitionService };
