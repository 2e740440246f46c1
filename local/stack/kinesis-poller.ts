/**
 * A Lambda-like Kinesis event source mapping for the offline twin and for tests: polls every shard of a
 * stream and invokes a handler with the event Lambda would send, honouring the mapping's settings as
 * serverless.yml declares them (batchSize, maximumBatchingWindow, startingPosition, maximumRetryAttempts,
 * maximumRecordAgeInSeconds, bisectBatchOnFunctionError, functionResponseType: ReportBatchItemFailures)
 * and an on-failure destination that receives the batch metadata (not the records) of what it gave up on.
 *
 * Semantics kept from Lambda (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html):
 * - a batch holds records of one shard, in order; one invocation per shard at a time;
 * - a handler error retries the batch; with bisect on, the batch is split in two first, and splitting does
 *   not use up a retry;
 * - with ReportBatchItemFailures, the lowest reported sequence number is the checkpoint: records before it
 *   are done, the rest is retried; an identifier that is empty or not in the batch fails the whole batch;
 * - after maximumRetryAttempts retries, or for records older than maximumRecordAgeInSeconds, the batch's
 *   metadata goes to the on-failure destination and the shard moves past it (-1 = no limit).
 * - with a checkpoint file (what `npm start` gives each mapping, in <dataDir>/event-source-mappings/), the
 *   mapping keeps its position per shard across stops and restarts, as AWS's does: a restart reads after the
 *   last record it finished; a mapping with nothing finished yet reads from where it first started (its
 *   StartingPosition, fixed at its creation: LATEST becomes the creation time), never from a new LATEST.
 * Not modelled: ParallelizationFactor, tumbling windows, filters, enhanced fan-out, resharding.
 *
 * Usage:
 *   const poller = new KinesisPoller({ client, streamArn, handler, ...custom.faceSearchBatch,
 *     onFailure: sqsOnFailureDestination(sqs, queueUrl) });
 *   poller.start();      // polls in the background until stop()
 *   await poller.drain(); // or: process everything currently in the stream, then return (tests)
 */
import { randomUUID } from 'node:crypto';
import { GetShardIteratorCommand, ListShardsCommand, type KinesisClient, type _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { readCheckpoint, writeCheckpoint, type MappingCheckpoint } from './kinesis-checkpoint';
import { ShardReader, sleep } from './kinesis-shard-reader';

export { readCheckpoint, type MappingCheckpoint } from './kinesis-checkpoint';

export interface KinesisEventSourceSettings {
  /** Records per invocation, 1–10,000 (serverless v3's default: 10). */
  batchSize?: number;
  /** Seconds to wait for a full batch before invoking with what there is (0–300). */
  maximumBatchingWindow?: number;
  startingPosition?: 'LATEST' | 'TRIM_HORIZON' | 'AT_TIMESTAMP';
  /** For AT_TIMESTAMP: epoch seconds. */
  startingPositionTimestamp?: number;
  /** Retries after the first attempt; -1 = until the records expire. */
  maximumRetryAttempts?: number;
  /** Records older than this are not sent to the handler; -1 = no limit. */
  maximumRecordAgeInSeconds?: number;
  bisectBatchOnFunctionError?: boolean;
  functionResponseType?: 'ReportBatchItemFailures';
}

/** What Lambda sends to an on-failure destination for a Kinesis batch it discarded. */
export interface KinesisOnFailureRecord {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded';
    approximateInvokeCount: number;
  };
  responseContext: { statusCode: number; executedVersion: string; functionError?: string };
  version: '1.0';
  timestamp: string;
  KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

export type KinesisHandler = (event: KinesisStreamEvent, context: Context) => Promise<unknown>;

export interface KinesisPollerOptions extends KinesisEventSourceSettings {
  client: KinesisClient;
  /** arn:aws:kinesis:<region>:<account>:stream/<name> */
  streamArn: string;
  handler: KinesisHandler;
  /** Receives the metadata of discarded batches (see sqsOnFailureDestination). */
  onFailure?: (record: KinesisOnFailureRecord) => Promise<void>;
  functionName?: string;
  /** The handler's timeout: a slower invocation counts as a function error, as on Lambda. */
  timeoutSeconds?: number;
  /** Wait between polls of an idle shard (Lambda polls each shard once a second). */
  pollIntervalMs?: number;
  /** Invocation outcomes, for logs and tests. */
  onInvoke?: (invocation: KinesisInvocation) => void;
  /** A failed read of the stream (the poller waits and reads again). */
  onPollError?: (error: unknown, shardId: string) => void;
  /**
   * Where the mapping keeps its position per shard (a JSON file, rewritten atomically after every finished
   * batch). Without it the mapping starts from its StartingPosition at every start.
   */
  checkpointFile?: string;
  now?: () => number;
}

export interface KinesisInvocation {
  shardId: string;
  sequenceNumbers: string[];
  outcome: 'success' | 'partial' | 'error';
  /** For partial: the checkpoint (lowest failed sequence number). */
  checkpoint?: string;
  error?: unknown;
}

/** SQS on-failure destination: one SendMessage of the metadata per discarded batch, as Lambda does. */
export function sqsOnFailureDestination(client: SQSClient, queueUrl: string) {
  return async (record: KinesisOnFailureRecord): Promise<void> => {
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(record) }));
  };
}

/** How Lambda reads an invocation's response: all done, done up to a checkpoint, or failed. */
export type Outcome = { kind: 'success' } | { kind: 'partial'; checkpointIndex: number } | { kind: 'error'; error: unknown };

export class KinesisPoller {
  readonly client: KinesisClient;
  readonly settings: Required<Pick<KinesisEventSourceSettings, 'batchSize' | 'maximumBatchingWindow' | 'maximumRetryAttempts' | 'maximumRecordAgeInSeconds' | 'bisectBatchOnFunctionError'>> &
    KinesisEventSourceSettings;
  readonly now: () => number;
  private readonly region: string;
  private readonly streamName: string;
  private readonly functionArn: string;
  private readers: ShardReader[] | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private checkpoint: MappingCheckpoint | undefined;

  constructor(private readonly options: KinesisPollerOptions) {
    this.client = options.client;
    const batchSize = options.batchSize ?? 10;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new Error(`batchSize must be an integer from 1 to 10000, got ${options.batchSize}`);
    const maxAge = options.maximumRecordAgeInSeconds ?? -1;
    if (maxAge !== -1 && !(maxAge >= 60 && maxAge <= 604_800)) throw new Error(`maximumRecordAgeInSeconds must be -1 or 60..604800, got ${maxAge}`);
    const retries = options.maximumRetryAttempts ?? -1;
    if (!Number.isInteger(retries) || retries < -1 || retries > 10_000) throw new Error(`maximumRetryAttempts must be -1..10000, got ${retries}`);
    if (!/^arn:[^:]+:kinesis:[^:]*:[^:]*:stream\/.+/.test(options.streamArn)) throw new Error(`streamArn is not a Kinesis stream ARN: ${options.streamArn}`);
    this.settings = {
      ...options,
      batchSize,
      maximumBatchingWindow: options.maximumBatchingWindow ?? 0,
      maximumRetryAttempts: retries,
      maximumRecordAgeInSeconds: maxAge,
      bisectBatchOnFunctionError: options.bisectBatchOnFunctionError ?? false,
    };
    this.now = options.now ?? Date.now;
    const [, partition, , region, account] = options.streamArn.split(':');
    this.region = region;
    // By name rather than ARN: kinesalite predates the StreamARN parameters.
    this.streamName = options.streamArn.slice(options.streamArn.indexOf(':stream/') + ':stream/'.length);
    this.functionArn = `arn:${partition}:lambda:${region}:${account}:function:${options.functionName ?? 'local'}`;
    if (options.checkpointFile) {
      this.checkpoint = readCheckpoint(options.checkpointFile, options.streamArn);
      if (!this.checkpoint) {
        this.checkpoint = { streamArn: options.streamArn, createdAt: this.now(), shards: {} };
        writeCheckpoint(options.checkpointFile, this.checkpoint);
      }
    }
  }

  /** @internal Records of a shard that arrived before this are not the mapping's (LATEST at its creation). */
  skipBefore(shardId: string): number | undefined {
    if (!this.checkpoint || (this.options.startingPosition ?? 'LATEST') !== 'LATEST' || this.checkpoint.shards[shardId]) return undefined;
    return this.checkpoint.createdAt;
  }

  /** @internal A shard's records up to `sequenceNumber` are finished (processed or given up on). */
  finished(shardId: string, sequenceNumber: string | undefined): void {
    if (!this.checkpoint || !this.options.checkpointFile || !sequenceNumber) return;
    this.checkpoint.shards[shardId] = sequenceNumber;
    writeCheckpoint(this.options.checkpointFile, this.checkpoint);
  }

  /** Polls every shard in the background until stop(). */
  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = (async () => {
      const readers = await this.shardReaders();
      await Promise.all(
        readers.map(async (reader) => {
          while (!this.stopping) {
            try {
              if (!(await reader.step())) await sleep(this.options.pollIntervalMs ?? 1000);
            } catch (error) {
              // A Kinesis read failure (emulator restarting, throttling): wait and poll again, as Lambda does.
              this.options.onPollError?.(error, reader.shardId);
              await sleep(this.options.pollIntervalMs ?? 1000);
            }
          }
        }),
      );
    })();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const reader of this.readers ?? []) reader.stop();
    await this.running;
    this.running = undefined;
  }

  /** Processes everything readable now (retries included) on every shard, then returns. Not with start(). */
  async drain(maxInvocations = 10_000): Promise<void> {
    const readers = await this.shardReaders();
    for (const reader of readers) {
      for (let i = 0; i < maxInvocations; i += 1) if (!(await reader.step()) && reader.idle) break;
    }
  }

  /** @internal */
  async shardIterator(shardId: string): Promise<string> {
    const { startingPosition = 'LATEST', startingPositionTimestamp } = this.options;
    const resumeAfter = this.checkpoint?.shards[shardId];
    if (resumeAfter) {
      const resumed = await this.client.send(
        new GetShardIteratorCommand({ StreamName: this.streamName, ShardId: shardId, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: resumeAfter }),
      );
      return resumed.ShardIterator ?? '';
    }
    if (this.checkpoint && startingPosition === 'LATEST') {
      // LATEST as of the mapping's creation, not of this start: what arrived while stopped is read. (Read from
      // the trim horizon, older records skipped in fill(): kinesalite never answers an AT_TIMESTAMP iterator
      // request when no record is that recent.)
      const horizon = await this.client.send(new GetShardIteratorCommand({ StreamName: this.streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }));
      return horizon.ShardIterator ?? '';
    }
    const response = await this.client.send(
      new GetShardIteratorCommand({
        StreamName: this.streamName,
        ShardId: shardId,
        ShardIteratorType: startingPosition,
        Timestamp: startingPosition === 'AT_TIMESTAMP' ? new Date((startingPositionTimestamp ?? 0) * 1000) : undefined,
      }),
    );
    return response.ShardIterator ?? '';
  }

  /** @internal Invokes the handler with one batch and interprets the response as Lambda would. */
  async invoke(shardId: string, batch: KinesisRecord[]): Promise<Outcome> {
    const event: KinesisStreamEvent = { Records: batch.map((record) => this.toEventRecord(shardId, record)) };
    const sequenceNumbers = batch.map((r) => r.SequenceNumber ?? '');
    let outcome: Outcome;
    try {
      const response = await this.withTimeout(this.options.handler(event, this.context()));
      outcome = this.interpret(response, sequenceNumbers);
    } catch (error) {
      outcome = { kind: 'error', error };
    }
    this.options.onInvoke?.({
      shardId,
      sequenceNumbers,
      outcome: outcome.kind,
      checkpoint: outcome.kind === 'partial' ? sequenceNumbers[outcome.checkpointIndex] : undefined,
      error: outcome.kind === 'error' ? outcome.error : undefined,
    });
    return outcome;
  }

  /** @internal Sends a discarded batch's metadata to the on-failure destination. */
  async discard(shardId: string, records: KinesisRecord[], condition: KinesisOnFailureRecord['requestContext']['condition'], attempts: number, error?: unknown): Promise<void> {
    if (!this.options.onFailure || records.length === 0) return;
    const arrival = (r: KinesisRecord) => (r.ApproximateArrivalTimestamp ?? new Date(0)).toISOString();
    await this.options.onFailure({
      requestContext: { requestId: randomUUID(), functionArn: this.functionArn, condition, approximateInvokeCount: attempts },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: error === undefined ? undefined : 'Unhandled' },
      version: '1.0',
      timestamp: new Date(this.now()).toISOString(),
      KinesisBatchInfo: {
        shardId,
        startSequenceNumber: records[0].SequenceNumber ?? '',
        endSequenceNumber: records[records.length - 1].SequenceNumber ?? '',
        approximateArrivalOfFirstRecord: arrival(records[0]),
        approximateArrivalOfLastRecord: arrival(records[records.length - 1]),
        batchSize: records.length,
        streamArn: this.options.streamArn,
      },
    });
  }

  private interpret(response: unknown, sequenceNumbers: string[]): Outcome {
    if (this.options.functionResponseType !== 'ReportBatchItemFailures') return { kind: 'success' };
    const failures = (response as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
    if (failures === undefined || failures === null) return { kind: 'success' };
    if (!Array.isArray(failures)) return { kind: 'error', error: new Error('batchItemFailures is not a list') };
    if (failures.length === 0) return { kind: 'success' };
    let checkpointIndex = Infinity;
    for (const failure of failures) {
      const index = sequenceNumbers.indexOf((failure as { itemIdentifier?: unknown })?.itemIdentifier as string);
      // Lambda treats an empty, null or unknown identifier as the whole batch failing.
      if (index < 0) return { kind: 'error', error: new Error(`batchItemFailures names no record of the batch: ${JSON.stringify(failure)}`) };
      checkpointIndex = Math.min(checkpointIndex, index);
    }
    return { kind: 'partial', checkpointIndex };
  }

  private toEventRecord(shardId: string, record: KinesisRecord): KinesisStreamRecord {
    return {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: record.PartitionKey ?? '',
        sequenceNumber: record.SequenceNumber ?? '',
        data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
        approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? this.now()) / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${shardId}:${record.SequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: `${this.functionArn.replace(/:lambda:[^:]*:/, ':iam::').replace(/function:.*/, '')}role/local`,
      awsRegion: this.region,
      eventSourceARN: this.options.streamArn,
    };
  }

  private context(): Context {
    const started = Date.now();
    const timeoutMs = (this.options.timeoutSeconds ?? 30) * 1000;
    const functionName = this.options.functionName ?? 'local';
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.functionArn,
      memoryLimitInMB: '512',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
  }

  private withTimeout<T>(promise: Promise<T>): Promise<T> {
    if (!this.options.timeoutSeconds) return promise;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Task timed out after ${this.options.timeoutSeconds} seconds`)), this.options.timeoutSeconds! * 1000);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  private async shardReaders(): Promise<ShardReader[]> {
    if (!this.readers) {
      const shardIds: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await this.client.send(nextToken ? new ListShardsCommand({ NextToken: nextToken }) : new ListShardsCommand({ StreamName: this.streamName }));
        for (const shard of page.Shards ?? []) if (shard.ShardId) shardIds.push(shard.ShardId);
        nextToken = page.NextToken;
      } while (nextToken);
      this.readers = shardIds.map((id) => new ShardReader(this, id));
    }
    return this.readers;
  }
}
