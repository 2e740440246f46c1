/**
 * S3 event notifications → Lambda, as S3 does it: the bucket's NotificationConfiguration.LambdaConfigurations
 * (event pattern + key prefix/suffix filters) select the functions; each gets a real S3 event (keys
 * URL-encoded with `+` for spaces, bucket ARN, configurationId...) invoked asynchronously with Lambda's
 * async retry policy (2 retries); an event still failing goes to the function's on-failure destination
 * (EventInvokeConfig), as Lambda's record of the request and the error.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { InvocationResult } from './functions';

export interface LambdaNotification {
  /** e.g. s3:ObjectCreated:* */
  event: string;
  functionArn: string;
  prefix?: string;
  suffix?: string;
  configurationId: string;
}

/** What s3rver reports for one object change (its own event has the key unencoded and a broken ARN). */
export interface ObjectChange {
  bucket: string;
  key: string;
  /** e.g. ObjectCreated:Put, ObjectRemoved:Delete */
  eventName: string;
  size?: number;
  eTag?: string;
  sourceIp?: string;
}

/** S3's key encoding in notifications: URL-encoded, spaces as `+`, slashes kept. */
export function encodeEventKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%20/g, '+'))
    .join('/');
}

export function matches(notification: LambdaNotification, change: ObjectChange): boolean {
  const [service, family, kind] = notification.event.split(':');
  const [changeFamily, changeKind] = change.eventName.split(':');
  if (service !== 's3' || family !== changeFamily || (kind !== '*' && kind !== changeKind)) return false;
  if (notification.prefix && !change.key.startsWith(notification.prefix)) return false;
  if (notification.suffix && !change.key.endsWith(notification.suffix)) return false;
  return true;
}

let sequence = 0;

export function s3Event(change: ObjectChange, configurationId: string, region: string, now = new Date()) {
  const object: Record<string, unknown> = {
    key: encodeEventKey(change.key),
    // S3's sequencer orders events of one key; a hex counter in time order does the same.
    sequencer: (now.getTime() * 1000 + (sequence++ % 1000)).toString(16).toUpperCase().padStart(16, '0'),
  };
  if (change.eventName.startsWith('ObjectCreated')) {
    object.size = change.size ?? 0;
    if (change.eTag) object.eTag = change.eTag;
  }
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: now.toISOString(),
        eventName: change.eventName,
        userIdentity: { principalId: 'AWS:AIDALOCALSTACKUSER' },
        requestParameters: { sourceIPAddress: change.sourceIp ?? '127.0.0.1' },
        responseElements: {
          'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(),
          'x-amz-id-2': createHash('sha256').update(randomBytes(16)).digest('base64'),
        },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId,
          bucket: { name: change.bucket, ownerIdentity: { principalId: 'A3LOCALOWNER' }, arn: `arn:aws:s3:::${change.bucket}` },
          object,
        },
      },
    ],
  };
}

export interface NotificationTarget {
  invoke(event: unknown): Promise<InvocationResult>;
}

/** Lambda's asynchronous-invocation destination record (docs: "Capturing records of Lambda asynchronous invocations"). */
export interface AsyncFailureRecord {
  version: '1.0';
  timestamp: string;
  requestContext: { requestId: string; functionArn: string; condition: 'RetriesExhausted'; approximateInvokeCount: number };
  requestPayload: unknown;
  responseContext: { statusCode: 200; executedVersion: '$LATEST'; functionError: 'Unhandled' };
  responsePayload: { errorType: string; errorMessage: string };
}

/** Where a function's failed asynchronous events go, by function ARN (undefined: logged and dropped, as without a destination). */
export type AsyncFailureDestination = (functionArn: string) => ((record: AsyncFailureRecord) => Promise<void>) | undefined;

/**
 * Routes object changes of the configured buckets to their functions. Asynchronous invocation: the
 * caller does not wait; failures are retried twice (Lambda's default for async events), then logged.
 */
export class S3NotificationRouter {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly byBucket: Map<string, LambdaNotification[]>,
    private readonly functionByArn: (arn: string) => NotificationTarget | undefined,
    private readonly region: string,
    private readonly log: (message: string) => void,
    private readonly retryDelaysMs: number[] = [1_000, 2_000],
    private readonly onFailure: AsyncFailureDestination = () => undefined,
  ) {}

  dispatch(change: ObjectChange): void {
    for (const notification of this.byBucket.get(change.bucket) ?? []) {
      if (!matches(notification, change)) continue;
      const target = this.functionByArn(notification.functionArn);
      if (!target) {
        this.log(`S3 notification for ${change.bucket} names ${notification.functionArn}, which is not a function of the stack: skipped`);
        continue;
      }
      const event = s3Event(change, notification.configurationId, this.region);
      const run = this.deliver(target, event, change, notification.functionArn).finally(() => this.inFlight.delete(run));
      this.inFlight.add(run);
    }
  }

  private async deliver(target: NotificationTarget, event: unknown, change: ObjectChange, functionArn: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await target.invoke(event);
      if (!outcome.error) return;
      if (attempt >= this.retryDelaysMs.length) {
        const destination = this.onFailure(functionArn);
        this.log(
          `S3 event ${change.eventName} s3://${change.bucket}/${change.key} failed after ${attempt + 1} attempts: ${outcome.error.errorType}: ${outcome.error.errorMessage}` +
            (destination ? '; kept in its on-failure destination' : ''),
        );
        if (destination) {
          await destination({
            version: '1.0',
            timestamp: new Date().toISOString(),
            requestContext: { requestId: randomUUID(), functionArn: `${functionArn}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: attempt + 1 },
            requestPayload: event,
            responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
            responsePayload: { errorType: outcome.error.errorType, errorMessage: outcome.error.errorMessage },
          }).catch((error: unknown) => this.log(`could not keep the failed S3 event in the on-failure destination: ${String(error)}`));
        }
        return;
      }
      await new Promise((r) => setTimeout(r, this.retryDelaysMs[attempt]));
    }
  }

  /** Resolves when every notification in flight has been delivered (or given up). */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }
}
