/**
 * One shard of a Kinesis event source mapping, read as Lambda reads it: batches in shard order, filled up to
 * the batch size within the batching window; retries, bisecting on a function error, partial batch responses
 * and records past their maximum age, each reported to the mapping (kinesis-poller.ts), which invokes the
 * function, sends what is given up on to the on-failure destination and keeps the checkpoint.
 */
import { GetRecordsCommand, type _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import type { KinesisPoller } from './kinesis-poller';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

export class ShardReader {
  private iterator: string | undefined;
  /** Fetched but not yet done, in shard order: the head is the next batch. */
  private buffer: KinesisRecord[] = [];
  /** Sizes of the pending halves after bisecting; empty = full batches. */
  private splits: number[] = [];
  private retries = 0;
  private closed = false;

  constructor(
    private readonly poller: KinesisPoller,
    readonly shardId: string,
  ) {}

  get idle(): boolean {
    return this.buffer.length === 0;
  }

  /** Fills the buffer (waiting up to the batching window), then invokes once. Answers whether it invoked. */
  async step(): Promise<boolean> {
    const { settings } = this.poller;
    await this.fill(settings.batchSize);
    if (settings.maximumBatchingWindow > 0 && this.buffer.length < settings.batchSize && this.buffer.length > 0) {
      const deadline = Date.now() + settings.maximumBatchingWindow * 1000;
      while (this.buffer.length < settings.batchSize && Date.now() < deadline && !this.closed) {
        await sleep(Math.min(200, deadline - Date.now()));
        await this.fill(settings.batchSize);
      }
    }
    await this.expireOldRecords();
    if (this.buffer.length === 0) return false;

    const batch = this.buffer.slice(0, this.splits[0] ?? settings.batchSize);
    const outcome = await this.poller.invoke(this.shardId, batch);

    if (outcome.kind === 'success') {
      this.done(batch.length);
      this.splits.shift();
      return true;
    }
    if (outcome.kind === 'partial' && outcome.checkpointIndex > 0) {
      // Records before the checkpoint are done; the rest is retried (bisecting: as a batch of its own).
      this.done(outcome.checkpointIndex);
      const remaining = batch.length - outcome.checkpointIndex;
      if (this.splits.length) this.splits[0] = remaining;
      else if (settings.bisectBatchOnFunctionError) this.splits.unshift(remaining);
    } else if (outcome.kind === 'error' && settings.bisectBatchOnFunctionError && batch.length > 1) {
      const first = Math.ceil(batch.length / 2);
      this.splits.splice(0, this.splits.length ? 1 : 0, first, batch.length - first);
      return true; // Splitting does not use up a retry.
    }
    this.retries += 1;
    if (settings.maximumRetryAttempts >= 0 && this.retries > settings.maximumRetryAttempts) {
      const remaining = outcome.kind === 'partial' ? batch.slice(outcome.checkpointIndex) : batch;
      await this.poller.discard(this.shardId, remaining, 'RetryAttemptsExhausted', this.retries, outcome.kind === 'error' ? outcome.error : undefined);
      this.done(remaining.length);
      this.splits.shift();
    }
    return true;
  }

  stop(): void {
    this.closed = true;
  }

  private done(count: number): void {
    if (count > 0) this.poller.finished(this.shardId, this.buffer[count - 1].SequenceNumber);
    this.buffer.splice(0, count);
    this.retries = 0;
  }

  private async expireOldRecords(): Promise<void> {
    const { maximumRecordAgeInSeconds } = this.poller.settings;
    if (maximumRecordAgeInSeconds < 0) return;
    const oldest = this.poller.now() - maximumRecordAgeInSeconds * 1000;
    let expired = 0;
    while (expired < this.buffer.length && (this.buffer[expired].ApproximateArrivalTimestamp?.getTime() ?? Infinity) < oldest) expired += 1;
    if (expired === 0) return;
    await this.poller.discard(this.shardId, this.buffer.slice(0, expired), 'RecordAgeExceeded', 0);
    this.poller.finished(this.shardId, this.buffer[expired - 1].SequenceNumber);
    this.buffer.splice(0, expired);
    this.retries = 0;
    this.splits = [];
  }

  private async fill(target: number): Promise<void> {
    if (this.closed || this.buffer.length >= target) return;
    if (this.iterator === undefined) this.iterator = await this.poller.shardIterator(this.shardId);
    if (!this.iterator) return; // shard closed and read to its end
    const response = await this.poller.client.send(
      new GetRecordsCommand({ ShardIterator: this.iterator, Limit: Math.min(10_000, Math.max(target - this.buffer.length, 1)) }),
    );
    this.iterator = response.NextShardIterator ?? '';
    const skipBefore = this.poller.skipBefore(this.shardId);
    const records = response.Records ?? [];
    this.buffer.push(...(skipBefore === undefined ? records : records.filter((r) => (r.ApproximateArrivalTimestamp?.getTime() ?? Infinity) >= skipBefore)));
  }
}
