/**
 * An API Gateway HTTP API (payload format 2.0) built from the template's AWS::ApiGatewayV2 routes and
 * integrations: route selection as API Gateway does it (literal segments over {params} over {greedy+},
 * a named method over ANY, $default last), the 2.0 event and response mapping, the integration timeout
 * (503), function errors (500) and unknown routes (404), and the API's CORS configuration.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { InvocationResult } from './functions';
import { listenOnLoopback } from '../listen';

export interface HttpRoute {
  /** "GET /people/{personId}", "ANY /{proxy+}" or "$default". */
  routeKey: string;
  target: { invoke(event: unknown): Promise<InvocationResult> };
  /** Integration timeout (API Gateway caps it at 30 s). */
  timeoutMs?: number;
  payloadFormatVersion?: string;
}

export interface CorsConfiguration {
  AllowOrigins?: string[];
  AllowMethods?: string[];
  AllowHeaders?: string[];
  ExposeHeaders?: string[];
  AllowCredentials?: boolean;
  MaxAge?: number;
}

export interface HttpApiOptions {
  port?: number;
  host?: string;
  routes: HttpRoute[];
  apiId?: string;
  accountId?: string;
  cors?: CorsConfiguration;
  log?: (line: string) => void;
  /** Pages served beside the API (the console: CloudFront's part on AWS); true when it answered. */
  site?: (req: http.IncomingMessage, res: http.ServerResponse, pathname: string) => boolean;
}

export interface HttpApi {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface CompiledRoute extends HttpRoute {
  method: string;
  segments: string[];
}

type Match = { route: CompiledRoute; pathParameters: Record<string, string> };

function compile(route: HttpRoute): CompiledRoute {
  if (route.routeKey === '$default') return { ...route, method: 'ANY', segments: [] };
  const [method, path] = route.routeKey.split(' ');
  if (!method || !path?.startsWith('/')) throw new Error(`Route key "${route.routeKey}" is not "<METHOD> /path" or $default`);
  return { ...route, method: method.toUpperCase(), segments: path.split('/').filter(Boolean) };
}

/** How specific a route is for a path, segment by segment: literal (2) > {param} (1) > {greedy+} (0). */
function specificity(route: CompiledRoute): number[] {
  return route.segments.map((s) => (s.endsWith('+}') ? 0 : s.startsWith('{') ? 1 : 2));
}

function matchPath(route: CompiledRoute, parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < route.segments.length; i++) {
    const segment = route.segments[i];
    if (segment.startsWith('{') && segment.endsWith('+}')) {
      if (i !== route.segments.length - 1 || parts.length <= i) return undefined;
      params[segment.slice(1, -2)] = parts.slice(i).join('/');
      return params;
    }
    if (i >= parts.length) return undefined;
    if (segment.startsWith('{') && segment.endsWith('}')) params[segment.slice(1, -1)] = parts[i];
    else if (segment !== parts[i]) return undefined;
  }
  return parts.length === route.segments.length ? params : undefined;
}

export function selectRoute(routes: HttpRoute[], method: string, path: string): Match | undefined {
  const compiled = routes.map(compile);
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  const candidates: Match[] = [];
  for (const route of compiled) {
    if (route.routeKey === '$default') continue;
    if (route.method !== 'ANY' && route.method !== method.toUpperCase()) continue;
    const pathParameters = matchPath(route, parts);
    if (pathParameters) candidates.push({ route, pathParameters });
  }
  candidates.sort((a, b) => {
    const sa = specificity(a.route);
    const sb = specificity(b.route);
    for (let i = 0; i < Math.max(sa.length, sb.length); i++) {
      const d = (sb[i] ?? -1) - (sa[i] ?? -1);
      if (d) return d;
    }
    return (a.route.method === 'ANY' ? 1 : 0) - (b.route.method === 'ANY' ? 1 : 0);
  });
  if (candidates[0]) return candidates[0];
  const fallback = compiled.find((r) => r.routeKey === '$default');
  return fallback ? { route: fallback, pathParameters: {} } : undefined;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|graphql)|[^;]*\+(json|xml))/i;

const clfTime = (d: Date) => {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
};

/** The API Gateway payload 2.0 event for a request. */
export function toEvent(req: http.IncomingMessage, body: Buffer, match: Match, options: { apiId: string; accountId: string; requestId: string; now: Date }) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    const value = req.rawHeaders[i + 1];
    if (name === 'cookie') {
      cookies = [...(cookies ?? []), ...value.split(';').map((c) => c.trim()).filter(Boolean)];
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const query: Record<string, string> = {};
  url.searchParams.forEach((value, key) => (query[key] = query[key] === undefined ? value : `${query[key]},${value}`));
  const host = headers.host ?? 'localhost';
  const contentType = headers['content-type'] ?? '';
  const isText = body.length === 0 || TEXT_TYPES.test(contentType);
  const routeKey = match.route.routeKey;
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: options.accountId,
      apiId: options.apiId,
      domainName: host,
      domainPrefix: host.split('.')[0].split(':')[0],
      http: {
        method: (req.method ?? 'GET').toUpperCase(),
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: options.requestId,
      routeKey,
      stage: '$default',
      time: clfTime(options.now),
      timeEpoch: options.now.getTime(),
    },
    ...(body.length ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    ...(Object.keys(match.pathParameters).length ? { pathParameters: match.pathParameters } : {}),
    isBase64Encoded: !isText,
  };
}

interface ProxyResponse {
  statusCode?: number;
  headers?: Record<string, string | number | boolean>;
  multiValueHeaders?: Record<string, (string | number | boolean)[]>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
}

/** Maps a function's result to the HTTP response as payload 2.0 does (a result without statusCode is the JSON body). */
export function toResponse(result: unknown): { status: number; headers: Record<string, string | string[]>; body: Buffer } {
  if (result && typeof result === 'object' && 'statusCode' in result) {
    const r = result as ProxyResponse;
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(r.multiValueHeaders ?? {})) headers[k.toLowerCase()] = v.map(String).join(',');
    for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = String(v);
    if (r.cookies?.length) headers['set-cookie'] = r.cookies;
    const body = r.body === undefined || r.body === null ? Buffer.alloc(0) : Buffer.from(String(r.body), r.isBase64Encoded ? 'base64' : 'utf8');
    return { status: Number(r.statusCode), headers, body };
  }
  const body = result === undefined || result === null ? '' : typeof result === 'string' ? result : JSON.stringify(result);
  return { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body) };
}

export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const routes = options.routes;
  routes.forEach(compile); // fail fast on malformed route keys
  const apiId = options.apiId ?? 'local';
  const accountId = options.accountId ?? '000000000000';
  const cors = options.cors;
  const log = options.log ?? (() => undefined);

  const corsHeaders = (req: http.IncomingMessage): Record<string, string> => {
    const origin = req.headers.origin;
    if (!cors || !origin) return {};
    const allowed = cors.AllowOrigins ?? [];
    if (!allowed.includes('*') && !allowed.includes(origin)) return {};
    return {
      'access-control-allow-origin': allowed.includes('*') && !cors.AllowCredentials ? '*' : origin,
      ...(cors.AllowCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
      ...(cors.ExposeHeaders?.length ? { 'access-control-expose-headers': cors.ExposeHeaders.join(',') } : {}),
    };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const requestId = randomUUID();
      const now = new Date();
      const started = Date.now();
      const send = (status: number, headers: Record<string, string | string[]>, body: Buffer | string) => {
        const data = typeof body === 'string' ? Buffer.from(body) : body;
        res.writeHead(status, { ...corsHeaders(req), ...headers, 'apigw-requestid': requestId, 'content-length': String(data.length) });
        res.end(data);
        log(`${req.method} ${req.url} → ${status} (${Date.now() - started} ms)`);
      };
      const message = (status: number, text: string) => send(status, { 'content-type': 'application/json' }, JSON.stringify({ message: text }));
      try {
        const url = new URL(req.url ?? '/', 'http://localhost');
        const method = (req.method ?? 'GET').toUpperCase();
        if (cors && method === 'OPTIONS' && req.headers['access-control-request-method']) {
          const headers = corsHeaders(req);
          if (!headers['access-control-allow-origin']) return send(204, {}, '');
          return send(204, {
            'access-control-allow-methods': (cors.AllowMethods ?? ['*']).join(','),
            'access-control-allow-headers': (cors.AllowHeaders ?? []).join(',') || String(req.headers['access-control-request-headers'] ?? ''),
            ...(cors.MaxAge ? { 'access-control-max-age': String(cors.MaxAge) } : {}),
          }, '');
        }
        if (options.site?.(req, res, url.pathname)) return log(`${req.method} ${req.url} (console)`);
        const match = selectRoute(routes, method, url.pathname);
        if (!match) return message(404, 'Not Found');
        const event = toEvent(req, Buffer.concat(chunks), match, { apiId, accountId, requestId, now });
        const timeoutMs = Math.min(match.route.timeoutMs ?? 30_000, 30_000);
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          match.route.target.invoke(event),
          new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
        ]);
        clearTimeout(timer);
        if (outcome === 'timeout') return message(503, 'Service Unavailable');
        if (outcome.error) return message(500, 'Internal Server Error');
        const response = toResponse(outcome.result);
        if (!(response.status >= 100 && response.status <= 599)) return message(500, 'Internal Server Error');
        return send(response.status, response.headers, response.body);
      } catch (error) {
        log(`${req.method} ${req.url} failed: ${error instanceof Error ? error.stack : String(error)}`);
        return message(500, 'Internal Server Error');
      }
    });
  });
  return {
    ...(await listenOnLoopback(server, options.port ?? 0, options.host ?? '127.0.0.1')),
  };
}
