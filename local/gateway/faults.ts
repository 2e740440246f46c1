/**
 * Fault injection in the local endpoint: by service, operation and rate, a request is answered with the
 * error AWS gives (without reaching the local service) and/or delayed. Rules come from FACEWATCH_FAULTS at
 * start and from the control route /_facewatch/faults (GET lists them with their counts; PUT/POST replaces
 * them with a JSON body `{ "rules": [...] }` or `[...]`; DELETE clears them).
 *
 * FACEWATCH_FAULTS: a JSON array of rules, or a comma-separated list of
 *   service[.Operation]:rate[:ErrorCode[:latencyMs[:durationSeconds]]]
 * e.g. `dynamodb:0.3:ProvisionedThroughputExceededException::30,sns.Publish:0.5:InternalFailure`.
 *
 * Error shapes (AWS's, by protocol: https://docs.aws.amazon.com/general/latest/gr/api-retries.html, each
 * service's "Common Errors" page https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html):
 * - JSON protocols (DynamoDB, Kinesis, Rekognition, SQS, Lambda, Kinesis Video): `{"__type": ..., "message": ...}`
 *   with the x-amzn-ErrorType header; throttling errors are HTTP 400, InternalFailure 500, ServiceUnavailable 503;
 * - query protocol (SNS): `<ErrorResponse><Error><Type>..</Type><Code>..</Code><Message>..</Message></Error>`;
 * - S3: `<Error><Code>..</Code><Message>..</Message></Error>` (SlowDown 503, InternalError 500).
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';

export interface FaultRule {
  service: string;
  /** The API operation (PutItem, Publish, GetRecords); '*' or absent = every operation of the service. */
  operation?: string;
  /** Share of matching requests that fail, 0–1 (default 1). 0 with latencyMs = latency only. */
  rate?: number;
  /** The AWS error code answered (default: the service's throttling error). */
  error?: string;
  /** Added latency on every matching request (ms). */
  latencyMs?: number;
  /** The rule ends this many seconds after it is set (default: never). */
  durationSeconds?: number;
}

interface ActiveRule extends FaultRule {
  until?: number;
  matched: number;
  injected: number;
}

const THROTTLING: Record<string, string> = {
  dynamodb: 'ProvisionedThroughputExceededException',
  kinesis: 'ProvisionedThroughputExceededException',
  rekognition: 'ProvisionedThroughputExceededException',
  sns: 'Throttling',
  sqs: 'ThrottlingException',
  s3: 'SlowDown',
  lambda: 'TooManyRequestsException',
  kinesisvideo: 'ClientLimitExceededException',
};

const STATUS: Record<string, number> = {
  InternalFailure: 500,
  InternalError: 500,
  InternalServerError: 500,
  ServiceUnavailable: 503,
  ServiceUnavailableException: 503,
  SlowDown: 503,
  TooManyRequestsException: 429,
};

export function parseFaults(text: string | undefined): FaultRule[] {
  const source = (text ?? '').trim();
  if (!source) return [];
  if (source.startsWith('[') || source.startsWith('{')) {
    const parsed = JSON.parse(source) as unknown;
    const list = Array.isArray(parsed) ? parsed : (parsed as { rules?: unknown }).rules;
    if (!Array.isArray(list)) throw new Error('fault rules: expected a JSON array of rules or { "rules": [...] }');
    return list.map(validateRule);
  }
  return source.split(',').map((part) => {
    const [target, rate, error, latency, duration] = part.trim().split(':');
    const [service, operation] = target.split('.');
    return validateRule({
      service,
      operation: operation || undefined,
      rate: rate === undefined || rate === '' ? undefined : Number(rate),
      error: error || undefined,
      latencyMs: latency ? Number(latency) : undefined,
      durationSeconds: duration ? Number(duration) : undefined,
    });
  });
}

function validateRule(value: unknown): FaultRule {
  const rule = value as FaultRule;
  if (!rule || typeof rule !== 'object' || typeof rule.service !== 'string' || !rule.service) throw new Error(`fault rule ${JSON.stringify(value)}: "service" (e.g. dynamodb) is required`);
  if (rule.rate !== undefined && !(typeof rule.rate === 'number' && rule.rate >= 0 && rule.rate <= 1)) throw new Error(`fault rule for ${rule.service}: rate must be a number from 0 to 1, got ${JSON.stringify(rule.rate)}`);
  for (const key of ['latencyMs', 'durationSeconds'] as const) {
    if (rule[key] !== undefined && !(typeof rule[key] === 'number' && rule[key]! >= 0)) throw new Error(`fault rule for ${rule.service}: ${key} must be a number ≥ 0, got ${JSON.stringify(rule[key])}`);
  }
  return { service: rule.service.toLowerCase(), operation: rule.operation, rate: rule.rate, error: rule.error, latencyMs: rule.latencyMs, durationSeconds: rule.durationSeconds };
}

/** The operation a request names: X-Amz-Target's (JSON protocols), Action (query protocol), else the path's head. */
export function operationOf(req: Pick<http.IncomingMessage, 'headers' | 'url' | 'method'>, body?: Buffer): string {
  const target = String(req.headers['x-amz-target'] ?? '');
  if (target.includes('.')) return target.slice(target.lastIndexOf('.') + 1);
  const url = new URL(req.url ?? '/', 'http://localhost');
  const action = url.searchParams.get('Action') ?? (body ? new URLSearchParams(body.toString('utf8')).get('Action') : null);
  if (action) return action;
  const head = url.pathname.split('/').filter(Boolean)[0];
  return head ?? req.method ?? 'GET';
}

export class FaultInjector {
  private rules: ActiveRule[] = [];

  constructor(
    initial: FaultRule[] = [],
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {
    this.set(initial);
  }

  set(rules: FaultRule[]): void {
    const at = this.now();
    this.rules = rules.map(validateRule).map((r) => ({ ...r, until: r.durationSeconds ? at + r.durationSeconds * 1000 : undefined, matched: 0, injected: 0 }));
  }

  list(): (FaultRule & { matched: number; injected: number; active: boolean })[] {
    const at = this.now();
    return this.rules.map(({ until, ...r }) => ({ ...r, active: until === undefined || at < until }));
  }

  /** Whether any rule is set for the service (the gateway reads a query-protocol body only then). */
  covers(service: string): boolean {
    const at = this.now();
    return this.rules.some((r) => r.service === service && (r.until === undefined || at < r.until));
  }

  /** What to do with a request: a delay and/or an error to answer instead of forwarding. */
  decide(service: string, operation: string): { latencyMs: number; error?: string } | undefined {
    const at = this.now();
    let latencyMs = 0;
    let error: string | undefined;
    for (const rule of this.rules) {
      if (rule.service !== service || (rule.operation && rule.operation !== '*' && rule.operation !== operation)) continue;
      if (rule.until !== undefined && at >= rule.until) continue;
      rule.matched += 1;
      latencyMs = Math.max(latencyMs, rule.latencyMs ?? 0);
      const rate = rule.rate ?? (rule.latencyMs ? 0 : 1);
      if (!error && rate > 0 && this.random() < rate) {
        rule.injected += 1;
        error = rule.error ?? THROTTLING[service] ?? 'ServiceUnavailable';
      }
    }
    return latencyMs || error ? { latencyMs, error } : undefined;
  }
}

/** Answers `code` as the service would. */
export function answerFault(res: http.ServerResponse, service: string, operation: string, code: string): void {
  const status = STATUS[code] ?? 400;
  const message = `Injected fault (local endpoint): ${code} for ${service} ${operation}`;
  const requestId = randomUUID();
  if (service === 's3') {
    res.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': requestId });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId></Error>`);
  } else if (service === 'sns') {
    const type = status >= 500 ? 'Receiver' : 'Sender';
    res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
    res.end(`<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
  } else {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': code, 'x-amzn-requestid': requestId });
    res.end(JSON.stringify({ __type: code, message }));
  }
}
