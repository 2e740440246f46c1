/**
 * The events the functions receive, wired from the template: Kinesis event source mappings (a poller each,
 * with the declared settings and on-failure destination), S3 notifications (through the router, with each
 * function's asynchronous on-failure queue) and SNS subscriptions (delivered to a queue or a function).
 */
import path from 'node:path';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Subscription } from '../sns/server';
import type { LocalFunction } from './functions';
import { KinesisPoller, sqsOnFailureDestination, type KinesisOnFailureRecord } from './kinesis-poller';
import { S3NotificationRouter, type LambdaNotification } from './s3-notifications';
import type { StackInfo } from './stack-info';
import type { EvaluatedTemplate } from './template';

/**
 * How often a mapping that reads through an enhanced fan-out consumer reads its shard: the emulator has no
 * SubscribeToShard, so a read every 100 ms stands for AWS's push (records reach the function ~70 ms after they
 * arrive on average; here ~50 ms plus the read).
 */
export const ENHANCED_FAN_OUT_POLL_MS = 100;

export interface EventSourceMappingWiring {
  cfn: EvaluatedTemplate;
  /** Each mapping keeps its position per shard under <dataDir>/event-source-mappings/. */
  dataDir: string;
  clients: { kinesis: KinesisClient; sqs: SQSClient; sns: SNSClient };
  functionOf: (nameOrArn: string) => LocalFunction | undefined;
  /** Takes what must be stopped with the stack, as soon as it runs. */
  own: (stop: () => Promise<unknown>) => void;
  warn: (line: string) => void;
  debug: (line: string) => void;
}

/** Kinesis event source mappings → pollers, started; answers them as stack.json lists them. */
export async function startEventSourceMappings(mappings: string[], wiring: EventSourceMappingWiring): Promise<StackInfo['eventSources']> {
  const { cfn, clients, functionOf, warn, debug } = wiring;
  const eventSources: StackInfo['eventSources'] = [];
  for (const id of mappings) {
    const p = cfn.properties(id);
    const fn = functionOf(String(p.FunctionName));
    const mappedArn = String(p.EventSourceArn);
    // Through an enhanced fan-out consumer (<stream ARN>/consumer/<name>:<time>): AWS pushes each record to the
    // function about 70 ms after it arrives, where a shared-throughput mapping polls the shard once a second.
    const consumer = /^(arn:[^:]+:kinesis:[^:]+:[^:]+:stream\/[^/]+)\/consumer\//.exec(mappedArn);
    const source = consumer ? consumer[1] : mappedArn;
    if (!fn) {
      warn(`${id}: function ${p.FunctionName} is not a function of the stack; skipped`);
      continue;
    }
    if (!source.includes(':kinesis:')) {
      warn(`${id}: event source ${source} is not a Kinesis stream; only Kinesis mappings are wired locally`);
      continue;
    }
    if (p.Enabled === false) {
      debug(`${id}: disabled`);
      continue;
    }
    const settings = {
      batchSize: p.BatchSize as number | undefined,
      maximumBatchingWindow: p.MaximumBatchingWindowInSeconds as number | undefined,
      startingPosition: p.StartingPosition as 'LATEST' | 'TRIM_HORIZON' | 'AT_TIMESTAMP' | undefined,
      startingPositionTimestamp: p.StartingPositionTimestamp as number | undefined,
      maximumRetryAttempts: p.MaximumRetryAttempts as number | undefined,
      maximumRecordAgeInSeconds: p.MaximumRecordAgeInSeconds as number | undefined,
      bisectBatchOnFunctionError: p.BisectBatchOnFunctionError as boolean | undefined,
      functionResponseType: ((p.FunctionResponseTypes as string[] | undefined) ?? []).includes('ReportBatchItemFailures') ? ('ReportBatchItemFailures' as const) : undefined,
    };
    if (p.ParallelizationFactor && p.ParallelizationFactor !== 1) warn(`${id}: ParallelizationFactor ${p.ParallelizationFactor} is not modelled locally (1 batch per shard at a time)`);
    const onFailureArn = (p.DestinationConfig as { OnFailure?: { Destination?: string } } | undefined)?.OnFailure?.Destination;
    const discarded = await kinesisOnFailureDestination(id, onFailureArn, clients, warn);
    const poller = new KinesisPoller({
      ...settings,
      client: clients.kinesis,
      streamArn: source,
      pollIntervalMs: consumer ? ENHANCED_FAN_OUT_POLL_MS : undefined,
      functionName: fn.definition.name,
      // Its position per shard survives stops and restarts, as a mapping's does on AWS.
      checkpointFile: path.join(wiring.dataDir, 'event-source-mappings', `${id}.json`),
      handler: async (event) => {
        const outcome = await fn.invoke(event);
        if (outcome.error) throw Object.assign(new Error(`${outcome.error.errorType}: ${outcome.error.errorMessage}`), { name: outcome.error.errorType });
        return outcome.result;
      },
      onFailure: discarded
        ? async (record) => {
            warn(`${fn.definition.name} gave up on ${record.KinesisBatchInfo.batchSize} record(s) of ${record.KinesisBatchInfo.shardId} (${record.requestContext.condition}); metadata sent to ${onFailureArn}`);
            await discarded(record);
          }
        : undefined,
      onInvoke: (invocation) =>
        debug(`${id}: ${invocation.outcome} for ${invocation.sequenceNumbers.length} record(s) of ${invocation.shardId}${invocation.error ? `: ${String(invocation.error)}` : ''}`),
    });
    poller.start();
    wiring.own(() => poller.stop());
    eventSources.push({
      function: fn.definition.logicalId,
      stream: source,
      ...(consumer ? { consumer: mappedArn } : {}),
      settings: JSON.parse(JSON.stringify(settings)),
      ...(onFailureArn ? { onFailure: onFailureArn } : {}),
    });
  }
  return eventSources;
}

/** Where a mapping sends the metadata of the batches it gave up on: an SQS queue or an SNS topic. */
async function kinesisOnFailureDestination(
  id: string,
  onFailureArn: string | undefined,
  clients: { sqs: SQSClient; sns: SNSClient },
  warn: (line: string) => void,
): Promise<((record: KinesisOnFailureRecord) => Promise<void>) | undefined> {
  if (onFailureArn?.includes(':sqs:')) {
    const { QueueUrl } = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: onFailureArn.split(':').pop() }));
    return sqsOnFailureDestination(clients.sqs, QueueUrl!);
  }
  if (onFailureArn?.includes(':sns:')) {
    return async (record) => {
      await clients.sns.send(new PublishCommand({ TopicArn: onFailureArn, Message: JSON.stringify(record) }));
    };
  }
  if (onFailureArn) warn(`${id}: on-failure destination ${onFailureArn} is not wired locally`);
  return undefined;
}

export interface S3NotificationWiring {
  notificationsByBucket: Map<string, LambdaNotification[]>;
  /** Function name → destination ARN of its failed asynchronous events. */
  asyncFailureDestinations: Map<string, string>;
  functionByArn: (arn: string) => LocalFunction | undefined;
  region: string;
  sqs: SQSClient;
  warn: (line: string) => void;
}

/** S3 notifications → functions, each function's failed events to its on-failure queue (only SQS queues are wired). */
export async function s3NotificationRouter({ notificationsByBucket, asyncFailureDestinations, functionByArn, region, sqs, warn }: S3NotificationWiring): Promise<S3NotificationRouter> {
  const asyncFailureQueues = new Map<string, string>();
  for (const [functionName, destination] of asyncFailureDestinations) {
    if (!destination.includes(':sqs:')) {
      warn(`${functionName}: on-failure destination ${destination} is not wired locally (only SQS queues are)`);
      continue;
    }
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: destination.split(':').pop() }));
    asyncFailureQueues.set(functionName, QueueUrl!);
  }
  return new S3NotificationRouter(notificationsByBucket, functionByArn, region, warn, undefined, (functionArn) => {
    const queueUrl = asyncFailureQueues.get(functionArn.split(':').pop()!);
    return queueUrl ? async (record) => void (await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(record) }))) : undefined;
  });
}

/**
 * s3rver's events, held until the router exists (S3 starts before the functions do), then dispatched as they
 * come. `onEvent` is what s3rver is given.
 */
export class S3EventQueue {
  private router: S3NotificationRouter | undefined;
  private readonly pending: unknown[] = [];

  readonly onEvent = (event: unknown): void => {
    if (this.router) dispatchS3Event(this.router, event);
    else this.pending.push(event);
  };

  /** From now on events go to the router; those that arrived while starting are delivered now. */
  attach(router: S3NotificationRouter): void {
    this.router = router;
    for (const event of this.pending.splice(0)) dispatchS3Event(router, event);
  }
}

/** s3rver's own event → the change it describes (its key is not encoded and its bucket ARN is wrong). */
function dispatchS3Event(router: S3NotificationRouter, event: unknown): void {
  for (const record of (event as { Records?: Record<string, any>[] }).Records ?? []) {
    router.dispatch({
      bucket: record.s3?.bucket?.name,
      key: record.s3?.object?.key,
      eventName: record.eventName,
      size: record.s3?.object?.size,
      eTag: record.s3?.object?.eTag,
      sourceIp: record.requestParameters?.sourceIPAddress,
    });
  }
}

/** SNS → its subscribers: SQS queues get the message, functions an SNS event (asynchronously, as Lambda's). */
export function snsDelivery(sqs: SQSClient, functionByArn: (arn: string) => LocalFunction | undefined) {
  return async (subscription: Subscription, body: string): Promise<void> => {
    if (subscription.protocol === 'sqs') {
      const queueName = subscription.endpoint.split(':').pop()!;
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
    } else if (subscription.protocol === 'lambda') {
      const fn = functionByArn(subscription.endpoint);
      if (!fn) throw new Error(`SNS subscription ${subscription.arn} names ${subscription.endpoint}, which is not a function of the stack`);
      void fn.invoke({
        Records: [{ EventSource: 'aws:sns', EventVersion: '1.0', EventSubscriptionArn: subscription.arn, Sns: JSON.parse(body) }],
      });
    } else {
      throw new Error(`protocol ${subscription.protocol} is not delivered by the local stack`);
    }
  };
}
