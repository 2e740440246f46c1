import { PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import type { OutgoingRecord, RecordSink } from '../use-cases/processor-ports';

/** PutRecords takes at most 500 entries and 5 MiB per call. */
const MAX_ENTRIES = 500;
const MAX_BYTES = 5 * 1024 * 1024 - 64 * 1024;

/**
 * The camera's face-search data stream. Entries Kinesis refuses (throttled shard) are sent again with
 * backoff; after `attempts` the put fails and the caller retries the whole window (records are idempotent
 * downstream: sighting ids are deterministic).
 */
export class FaceSearchRecordSink implements RecordSink {
  constructor(
    private readonly client: KinesisClient,
    private readonly streamName: string,
    private readonly attempts = 5,
    private readonly sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  ) {}

  async put(records: readonly OutgoingRecord[]): Promise<void> {
    const entries: PutRecordsRequestEntry[] = records.map(({ record, partitionKey }) => ({
      Data: Buffer.from(JSON.stringify(record)),
      PartitionKey: partitionKey,
    }));
    for (const batch of batches(entries)) await this.putBatch(batch);
  }

  private async putBatch(entries: PutRecordsRequestEntry[]): Promise<void> {
    let pending = entries;
    for (let attempt = 1; pending.length; attempt++) {
      const r = await this.client.send(new PutRecordsCommand({ StreamName: this.streamName, Records: pending }));
      if (!r.FailedRecordCount) return;
      const failed = pending.filter((_, i) => r.Records?.[i]?.ErrorCode);
      if (attempt >= this.attempts) {
        const code = r.Records?.find((e) => e.ErrorCode)?.ErrorCode;
        throw new Error(`Kinesis refused ${failed.length} face-search record(s) on ${this.streamName} after ${attempt} attempts (${code})`);
      }
      pending = failed;
      await this.sleep(100 * 2 ** attempt);
    }
  }
}

function* batches(entries: PutRecordsRequestEntry[]): Generator<PutRecordsRequestEntry[]> {
  let batch: PutRecordsRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = (entry.Data?.length ?? 0) + Buffer.byteLength(entry.PartitionKey ?? '');
    if (batch.length && (batch.length >= MAX_ENTRIES || bytes + size > MAX_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += size;
  }
  if (batch.length) yield batch;
}
