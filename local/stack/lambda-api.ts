/**
 * The Lambda API of the local functions (REST-JSON, as LambdaClient and `aws lambda invoke` send it):
 * Invoke (RequestResponse, Event = asynchronous with Lambda's 2 retries, DryRun), GetFunction and
 * ListFunctions. Functions that start other functions (the self-managed processor's worker chains
 * itself with InvocationType Event) work locally unchanged.
 */
import http from 'node:http';
import type { InvocationResult } from './functions';
import { listenOnLoopback } from '../listen';

export interface InvocableFunction {
  definition: { name: string; arn: string; handler: string; timeoutSeconds: number; memoryMb: number };
  invoke(event: unknown): Promise<InvocationResult>;
}

export interface LambdaApiOptions {
  host?: string;
  functions: () => InvocableFunction[];
  log?: (line: string) => void;
  retryDelaysMs?: number[];
}

export interface LambdaApi {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Name, ARN or partial ARN (`123456789012:function:name`), with an optional `:qualifier`. */
export function functionNameOf(identifier: string): string {
  const decoded = decodeURIComponent(identifier);
  const match = decoded.match(/(?:^|:)function:([^:]+)/);
  if (match) return match[1];
  return decoded.split(':')[0];
}

export async function startLambdaApi(options: LambdaApiOptions): Promise<LambdaApi> {
  const log = options.log ?? (() => undefined);
  const retryDelaysMs = options.retryDelaysMs ?? [1_000, 2_000];
  // Once closed (the stack stops), asynchronous events still pending are not retried.
  let closed = false;
  const find = (identifier: string) => {
    const name = functionNameOf(identifier);
    return options.functions().find((f) => f.definition.name === name);
  };
  const configuration = (f: InvocableFunction) => ({
    FunctionName: f.definition.name,
    FunctionArn: f.definition.arn,
    Runtime: 'nodejs24.x',
    Handler: f.definition.handler,
    Timeout: f.definition.timeoutSeconds,
    MemorySize: f.definition.memoryMb,
    Version: '$LATEST',
    State: 'Active',
    PackageType: 'Zip',
  });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        const data = body === undefined ? Buffer.alloc(0) : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(data.length), ...headers });
        res.end(data);
      };
      const error = (status: number, type: string, message: string) => send(status, { Type: 'User', message }, { 'x-amzn-errortype': type });
      const url = new URL(req.url ?? '/', 'http://localhost');
      const invoke = url.pathname.match(/^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/);
      const get = url.pathname.match(/^\/2015-03-31\/functions\/([^/]+)\/?$/);
      if (req.method === 'POST' && invoke) {
        const fn = find(invoke[1]);
        if (!fn) return error(404, 'ResourceNotFoundException', `Function not found: ${decodeURIComponent(invoke[1])}`);
        const raw = Buffer.concat(chunks).toString('utf8');
        let event: unknown = {};
        try {
          event = raw ? JSON.parse(raw) : {};
        } catch {
          return error(400, 'InvalidRequestContentException', 'Could not parse request body into json: the payload must be JSON');
        }
        const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
        if (type === 'DryRun') return send(204, undefined);
        if (type === 'Event') {
          send(202, undefined);
          void (async () => {
            for (let attempt = 0; ; attempt++) {
              const outcome = await fn.invoke(event);
              if (!outcome.error || closed) return;
              if (attempt >= retryDelaysMs.length) {
                log(`asynchronous invocation of ${fn.definition.name} failed after ${attempt + 1} attempts: ${outcome.error.errorType}: ${outcome.error.errorMessage}`);
                return;
              }
              await new Promise((r) => setTimeout(r, retryDelaysMs[attempt]));
            }
          })();
          return;
        }
        if (type !== 'RequestResponse') return error(400, 'InvalidParameterValueException', `Invalid InvocationType: ${type}`);
        const outcome = await fn.invoke(event);
        const headers = { 'x-amz-executed-version': '$LATEST' };
        if (outcome.error) return send(200, outcome.error, { ...headers, 'x-amz-function-error': 'Unhandled' });
        return send(200, outcome.result === undefined ? 'null' : JSON.stringify(outcome.result), headers);
      }
      if (req.method === 'GET' && get) {
        const fn = find(get[1]);
        if (!fn) return error(404, 'ResourceNotFoundException', `Function not found: ${decodeURIComponent(get[1])}`);
        return send(200, { Configuration: configuration(fn), Code: { RepositoryType: 'Local' } });
      }
      if (req.method === 'GET' && /^\/2015-03-31\/functions\/?$/.test(url.pathname)) {
        return send(200, { Functions: options.functions().map(configuration) });
      }
      return error(404, 'UnknownOperationException', `The local Lambda API does not support ${req.method} ${url.pathname}`);
    });
  });
  const listening = await listenOnLoopback(server, 0, options.host ?? '127.0.0.1');
  return {
    ...listening,
    close: () => {
      closed = true;
      return listening.close();
    },
  };
}
