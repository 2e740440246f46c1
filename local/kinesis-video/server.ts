/**
 * Local Kinesis Video Streams service over HTTP, speaking AWS's REST-JSON protocol so that the
 * unmodified @aws-sdk/client-kinesis-video and @aws-sdk/client-kinesis-video-archived-media clients work
 * against it (endpoint = this server's URL; SigV4 signatures are accepted without verification).
 * Data plane: POST /putMedia (chunked MKV in, JSON acks out), POST /getMedia (MKV out).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError } from './errors';
import type { Ack } from './ingest';
import { KinesisVideoService, parseTimestamp, type ServiceOptions } from './service';
import { cmpNumber, type FragmentMeta, type StreamRecord } from './store';

export interface KinesisVideoServerOptions extends Omit<ServiceOptions, 'dataDir'> {
  port?: number;
  host?: string;
  dataDir: string;
  region?: string;
  /** URL returned by GetDataEndpoint. Default: http://<Host header of the request>. */
  dataEndpoint?: string;
}

export interface KinesisVideoServer {
  url: string;
  port: number;
  close(): Promise<void>;
  handler: http.RequestListener;
  service: KinesisVideoService;
}

type Json = Record<string, unknown>;
const MAX_JSON = 1024 * 1024;

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': data.length, ...headers });
  res.end(data);
}

function sendError(res: http.ServerResponse, e: unknown): void {
  const err = e instanceof ApiError ? e : new ApiError('InternalFailure', e instanceof Error ? e.message : String(e), 500);
  if (!(e instanceof ApiError) && process.env.KVS_DEBUG) console.error('[kinesis-video]', e);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.status, { message: err.message, Message: err.message }, {
    'x-amzn-errortype': `${err.type}:http://internal.amazon.com/coral/com.amazonaws.kinesis.video.v20170930/`,
  });
}

function readJson(req: http.IncomingMessage): Promise<Json> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_JSON) {
        reject(new ApiError('InvalidArgumentException', 'Request body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (!text) return resolve({});
      try {
        const v = JSON.parse(text);
        resolve(v && typeof v === 'object' ? (v as Json) : {});
      } catch {
        reject(new ApiError('SerializationException', 'Request body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}

/** Builds the node request handler of the service (mountable behind a single-endpoint gateway). */
export function createKinesisVideoHandler(service: KinesisVideoService, dataEndpoint?: string): http.RequestListener {
  return (req, res) => {
    void route(service, req, res, dataEndpoint).catch((e) => sendError(res, e));
  };
}

async function route(service: KinesisVideoService, req: http.IncomingMessage, res: http.ServerResponse, dataEndpoint?: string): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '').toLowerCase();
  if (req.method !== 'POST') throw new ApiError('UnknownOperationException', `${req.method} ${path} is not supported`, 404);
  if (path === '/putmedia') return putMedia(service, req, res);
  const body = await readJson(req);
  switch (path) {
    case '/createstream':
      return sendJson(res, 200, service.createStream(body));
    case '/describestream':
      return sendJson(res, 200, service.describeStream(body));
    case '/liststreams':
      return sendJson(res, 200, service.listStreams(body));
    case '/deletestream':
      return sendJson(res, 200, service.deleteStream(body));
    case '/updatedataretention':
      return sendJson(res, 200, service.updateDataRetention(body));
    case '/getdataendpoint':
      return sendJson(res, 200, service.getDataEndpoint(body, dataEndpoint ?? `http://${req.headers.host ?? 'localhost'}`));
    case '/listfragments':
      return sendJson(res, 200, service.listFragments(body));
    case '/getimages':
      return sendJson(res, 200, await service.getImages(body));
    case '/getmediaforfragmentlist':
      return getMediaForFragmentList(service, body, res);
    case '/getmedia':
      return getMedia(service, body, req, res);
    default:
      throw new ApiError('UnknownOperationException', `Unknown operation ${path}`, 404);
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function putMedia(service: KinesisVideoService, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  let record: StreamRecord;
  let timecodeType: 'ABSOLUTE' | 'RELATIVE';
  let startMs: number;
  try {
    record = service.store.getStream({ StreamName: header(req, 'x-amzn-stream-name'), StreamARN: header(req, 'x-amzn-stream-arn') });
    const type = (header(req, 'x-amzn-fragment-timecode-type') ?? '').toUpperCase();
    if (type !== 'ABSOLUTE' && type !== 'RELATIVE')
      throw new ApiError('InvalidArgumentException', 'x-amzn-fragment-timecode-type must be ABSOLUTE or RELATIVE');
    timecodeType = type;
    const start = header(req, 'x-amzn-producer-start-timestamp');
    startMs = Date.now();
    if (start !== undefined && start !== '') {
      const n = Number(start);
      if (!Number.isFinite(n) || n < 0) throw new ApiError('InvalidArgumentException', 'x-amzn-producer-start-timestamp must be epoch seconds');
      startMs = n > 1e11 ? n : n * 1000; // seconds (AWS); tolerate milliseconds
    }
  } catch (e) {
    req.resume();
    throw e;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.flushHeaders();
  const write = (a: Ack): void => {
    if (!res.writableEnded && !res.destroyed) res.write(JSON.stringify(a) + '\n');
  };
  const session = service.openSession(record, { timecodeType, producerStartMs: startMs }, write);
  service.maybeDecode(session);
  let ended = false;
  req.on('data', (c: Buffer) => session.push(c));
  req.on('end', () => {
    ended = true;
    void session.end().finally(() => {
      service.closeSession(session);
      res.end();
    });
  });
  req.on('close', () => {
    if (!ended) {
      session.abort();
      service.closeSession(session);
      res.destroy();
    }
  });
}

async function getMediaForFragmentList(service: KinesisVideoService, body: Json, res: http.ServerResponse): Promise<void> {
  const { record, metas } = service.getMediaForFragmentList(body);
  const parts: Buffer[] = [];
  for (const meta of metas) parts.push(await service.mediaFragment(record, meta));
  const data = Buffer.concat(parts);
  res.writeHead(200, { 'content-type': 'video/webm', 'content-length': data.length });
  res.end(data);
}

/** GetMedia: sends the selected fragments, then follows the stream live until it is idle. */
async function getMedia(service: KinesisVideoService, body: Json, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const record = service.store.getStream({
    StreamName: typeof body.StreamName === 'string' ? body.StreamName : undefined,
    StreamARN: typeof body.StreamARN === 'string' ? body.StreamARN : undefined,
  });
  const sel = (body.StartSelector ?? {}) as Json;
  const type = sel.StartSelectorType;
  const existing = service.store.fragments(record);
  let backlog: FragmentMeta[];
  switch (type) {
    case 'NOW':
      backlog = [];
      break;
    case 'EARLIEST':
      backlog = [...existing];
      break;
    case 'FRAGMENT_NUMBER': {
      const after = String(sel.AfterFragmentNumber ?? '');
      if (!/^\d+$/.test(after)) throw new ApiError('InvalidArgumentException', 'AfterFragmentNumber is required');
      backlog = existing.filter((f) => cmpNumber(f.number, after) > 0);
      break;
    }
    case 'CONTINUATION_TOKEN': {
      const token = String(sel.ContinuationToken ?? '');
      if (!/^\d+$/.test(token)) throw new ApiError('InvalidArgumentException', 'ContinuationToken is invalid');
      backlog = existing.filter((f) => cmpNumber(f.number, token) > 0);
      break;
    }
    case 'PRODUCER_TIMESTAMP':
    case 'SERVER_TIMESTAMP': {
      const t = parseTimestamp(sel.StartTimestamp, 'StartTimestamp');
      const key = type === 'SERVER_TIMESTAMP' ? 'serverMs' : 'producerMs';
      // the fragment containing t, then the following ones
      const i = existing.findIndex((f) => f[key] + f.durationMs > t);
      backlog = i < 0 ? [] : existing.slice(i);
      break;
    }
    default:
      throw new ApiError('InvalidArgumentException', 'StartSelectorType must be one of NOW, EARLIEST, FRAGMENT_NUMBER, PRODUCER_TIMESTAMP, SERVER_TIMESTAMP, CONTINUATION_TOKEN');
  }
  res.writeHead(200, { 'content-type': 'video/webm' });
  res.flushHeaders();
  let last = backlog.length ? backlog[backlog.length - 1].number : (existing[existing.length - 1]?.number ?? '0');
  const queue: FragmentMeta[] = [...backlog];
  let closed = false;
  let wake: (() => void) | undefined;
  const onFragment = (r: StreamRecord, meta: FragmentMeta): void => {
    if (r !== record || cmpNumber(meta.number, last) <= 0) return;
    last = meta.number;
    queue.push(meta);
    wake?.();
  };
  service.store.on('fragment', onFragment);
  const stop = (): void => {
    closed = true;
    wake?.();
  };
  req.on('close', stop);
  res.on('close', stop);
  try {
    while (!closed) {
      const meta = queue.shift();
      if (!meta) {
        const got = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), service.getMediaIdleMs);
          wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
        wake = undefined;
        if (!got) break;
        continue;
      }
      let bytes: Buffer;
      try {
        bytes = await service.mediaFragment(record, meta, {
          AWS_KINESISVIDEO_MILLIS_BEHIND_NOW: String(Math.max(0, Date.now() - meta.serverMs - meta.durationMs)),
          AWS_KINESISVIDEO_CONTINUATION_TOKEN: meta.number,
        });
      } catch {
        continue; // evicted meanwhile
      }
      if (!res.write(bytes)) await new Promise<void>((r) => res.once('drain', r));
    }
  } finally {
    service.store.off('fragment', onFragment);
    if (!res.writableEnded) res.end();
  }
}

/** Starts the service on 127.0.0.1 (port 0 = a free port). */
export async function startKinesisVideoServer(options: KinesisVideoServerOptions): Promise<KinesisVideoServer> {
  const service = new KinesisVideoService(options);
  const handler = createKinesisVideoHandler(service, options.dataEndpoint);
  const server = http.createServer(handler);
  // PutMedia and GetMedia are long-lived streams
  server.requestTimeout = 0;
  server.timeout = 0;
  server.keepAliveTimeout = 5000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  return {
    url,
    port,
    handler,
    service,
    close: () =>
      new Promise<void>((resolve) => {
        service.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
