import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { KinesisPoller, type KinesisInvocation, type KinesisOnFailureRecord, type KinesisPollerOptions } from '../../../local/stack/kinesis-poller';
import { createCameraStreams, startLocalAws, type LocalAws } from '../../support/local-aws';

/** The Lambda-like poller against kinesalite: batching, partial responses, bisecting, retries, record age, on-failure. */
describe('KinesisPoller', () => {
  let aws: LocalAws;
  let streamArn: string;
  let stage = 0;

  beforeAll(async () => {
    aws = await startLocalAws({ kinesis: true });
  });
  afterAll(() => aws.stop());

  beforeEach(async () => {
    stage += 1;
    [{ dataStreamArn: streamArn }] = await createCameraStreams(aws.kinesis, `poll${stage}`, ['cam']);
  });

  async function put(values: string[]): Promise<string[]> {
    const sequenceNumbers: string[] = [];
    for (const value of values) {
      const { SequenceNumber } = await aws.kinesis.send(
        new PutRecordCommand({ StreamName: streamArn.split('/')[1], PartitionKey: 'pk', Data: Buffer.from(value) }),
      );
      sequenceNumbers.push(SequenceNumber!);
    }
    return sequenceNumbers;
  }

  const payloads = (event: KinesisStreamEvent) => event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString());

  function poller(handler: (event: KinesisStreamEvent) => Promise<unknown>, options: Partial<KinesisPollerOptions> = {}) {
    const invocations: KinesisInvocation[] = [];
    const discarded: KinesisOnFailureRecord[] = [];
    const instance = new KinesisPoller({
      client: aws.kinesis,
      streamArn,
      handler,
      startingPosition: 'TRIM_HORIZON',
      functionResponseType: 'ReportBatchItemFailures',
      onFailure: async (record) => {
        discarded.push(record);
      },
      onInvoke: (invocation) => invocations.push(invocation),
      ...options,
    });
    return { instance, invocations, discarded };
  }

  it('delivers the records in shard order, in batches of at most batchSize, with the Lambda event shape', async () => {
    // Given five records in the stream
    const sequenceNumbers = await put(['a', 'b', 'c', 'd', 'e']);
    const batches: string[][] = [];
    let firstEvent: KinesisStreamEvent | undefined;
    const { instance } = poller(
      async (event) => {
        firstEvent ??= event;
        batches.push(payloads(event));
        return { batchItemFailures: [] };
      },
      { batchSize: 2 },
    );

    // When the poller drains the stream
    await instance.drain();

    // Then it delivered every record once, in order, two at a time, shaped like Lambda's event
    expect(batches).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    const record = firstEvent!.Records[0];
    expect(record).toMatchObject({
      eventSource: 'aws:kinesis',
      eventSourceARN: streamArn,
      eventID: `shardId-000000000000:${sequenceNumbers[0]}`,
      kinesis: { sequenceNumber: sequenceNumbers[0], partitionKey: 'pk', data: Buffer.from('a').toString('base64') },
    });
    expect(record.kinesis.approximateArrivalTimestamp).toBeGreaterThan(1_600_000_000);
  });

  it('resumes from the lowest reported failure: records before it are not delivered again', async () => {
    // Given a handler that fails "c" and "d" once
    const sequenceNumbers = await put(['a', 'b', 'c', 'd', 'e']);
    const seen: string[][] = [];
    let failed = false;
    const { instance, invocations } = poller(async (event): Promise<KinesisStreamBatchResponse> => {
      seen.push(payloads(event));
      if (failed) return { batchItemFailures: [] };
      failed = true;
      return { batchItemFailures: [{ itemIdentifier: sequenceNumbers[3] }, { itemIdentifier: sequenceNumbers[2] }] };
    }, { batchSize: 5 });

    // When the stream is drained
    await instance.drain();

    // Then the retry starts at "c"
    expect(seen).toEqual([['a', 'b', 'c', 'd', 'e'], ['c', 'd', 'e']]);
    expect(invocations.map((i) => [i.outcome, i.checkpoint])).toEqual([['partial', sequenceNumbers[2]], ['success', undefined]]);
  });

  it('treats an identifier that is not in the batch as a failure of the whole batch', async () => {
    // Given a handler answering a malformed identifier once
    await put(['a', 'b']);
    const seen: string[][] = [];
    const { instance, invocations } = poller(async (event) => {
      seen.push(payloads(event));
      return seen.length === 1 ? { batchItemFailures: [{ itemIdentifier: '' }] } : {};
    }, { batchSize: 10 });

    // When drained
    await instance.drain();

    // Then the whole batch was retried
    expect(seen).toEqual([['a', 'b'], ['a', 'b']]);
    expect(invocations[0].outcome).toBe('error');
  });

  it('bisects a failing batch without using retries, and sends what still fails after the retries to the on-failure destination', async () => {
    // Given a handler that always throws on a batch containing "poison"
    const sequenceNumbers = await put(['a', 'b', 'poison', 'd']);
    const seen: string[][] = [];
    const { instance, discarded } = poller(
      async (event) => {
        seen.push(payloads(event));
        if (payloads(event).includes('poison')) throw new Error('boom');
        return {};
      },
      { batchSize: 4, bisectBatchOnFunctionError: true, maximumRetryAttempts: 1 },
    );

    // When drained
    await instance.drain();

    // Then: 4 → 2+2 → the half with poison → 1+1 → poison alone, retried once, then discarded
    expect(seen).toEqual([['a', 'b', 'poison', 'd'], ['a', 'b'], ['poison', 'd'], ['poison'], ['poison'], ['d']]);
    expect(discarded).toHaveLength(1);
    expect(discarded[0]).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 2 },
      responseContext: { functionError: 'Unhandled' },
      KinesisBatchInfo: { shardId: 'shardId-000000000000', startSequenceNumber: sequenceNumbers[2], endSequenceNumber: sequenceNumbers[2], batchSize: 1, streamArn },
    });
  });

  it('without bisecting, retries the whole batch maximumRetryAttempts times, then moves past it', async () => {
    // Given a handler that always throws on "a"
    await put(['a', 'b', 'c']);
    const seen: string[][] = [];
    const { instance, discarded } = poller(
      async (event) => {
        seen.push(payloads(event));
        if (payloads(event).includes('a')) throw new Error('boom');
      },
      { batchSize: 2, maximumRetryAttempts: 2 },
    );

    // When drained
    await instance.drain();

    // Then the first batch ran 1 + 2 times and was discarded; the shard went on
    expect(seen).toEqual([['a', 'b'], ['a', 'b'], ['a', 'b'], ['c']]);
    expect(discarded.map((d) => d.KinesisBatchInfo.batchSize)).toEqual([2]);
  });

  it('does not deliver records older than maximumRecordAgeInSeconds: their metadata goes to the on-failure destination', async () => {
    // Given records that, by the poller's clock, arrived two hours ago
    await put(['old-1', 'old-2']);
    const seen: string[][] = [];
    const { instance, discarded } = poller(
      async (event) => {
        seen.push(payloads(event));
      },
      { maximumRecordAgeInSeconds: 3600, now: () => Date.now() + 2 * 3600 * 1000 },
    );

    // When drained
    await instance.drain();

    // Then nothing reached the handler and the destination learnt of both records
    expect(seen).toEqual([]);
    expect(discarded).toHaveLength(1);
    expect(discarded[0].requestContext.condition).toBe('RecordAgeExceeded');
    expect(discarded[0].KinesisBatchInfo.batchSize).toBe(2);
  });

  it('polls in the background after start() and stops cleanly', async () => {
    // Given a started poller
    const seen: string[] = [];
    const { instance } = poller(async (event) => {
      seen.push(...payloads(event));
    }, { pollIntervalMs: 20 });
    instance.start();

    // When records arrive afterwards
    await put(['x', 'y']);
    for (let i = 0; i < 100 && seen.length < 2; i += 1) await new Promise((r) => setTimeout(r, 20));
    await instance.stop();

    // Then they were delivered
    expect(seen).toEqual(['x', 'y']);
  });

  it('with a checkpoint file, a restarted mapping resumes after the last record it finished: each record once', async () => {
    // Given a LATEST mapping with its checkpoint file, created before any record
    const checkpointFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'esm-')), 'mapping.json');
    const seen: string[] = [];
    const handler = async (event: KinesisStreamEvent) => {
      seen.push(...payloads(event));
    };
    const first = poller(handler, { startingPosition: 'LATEST', checkpointFile, batchSize: 2 }).instance;
    await new Promise((r) => setTimeout(r, 20));

    // When records arrive, it consumes them and stops; more arrive while it is stopped; a new poller starts
    await put(['a', 'b', 'c']);
    await first.drain();
    await put(['d', 'e']);
    const second = poller(handler, { startingPosition: 'LATEST', checkpointFile, batchSize: 2 }).instance;
    await second.drain();

    // Then every record was consumed once: what arrived while stopped too, nothing twice
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(JSON.parse(fs.readFileSync(checkpointFile, 'utf8')).shards['shardId-000000000000']).toBeDefined();
  });

  it('a new LATEST mapping whose first start found nothing still reads what arrived before its restart', async () => {
    // Given records from before the mapping was created, and a mapping that started, read nothing and stopped
    await put(['old']);
    await new Promise((r) => setTimeout(r, 20));
    const checkpointFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'esm-')), 'mapping.json');
    const seen: string[] = [];
    const handler = async (event: KinesisStreamEvent) => {
      seen.push(...payloads(event));
    };
    await poller(handler, { startingPosition: 'LATEST', checkpointFile }).instance.drain();
    await new Promise((r) => setTimeout(r, 20));

    // When a record arrives while it is stopped and it starts again
    await put(['while-stopped']);
    await poller(handler, { startingPosition: 'LATEST', checkpointFile }).instance.drain();

    // Then it reads that record (its LATEST is its creation), and not the one from before it existed
    expect(seen).toEqual(['while-stopped']);
  });

  it('refuses settings Lambda would refuse', () => {
    expect(() => poller(async () => ({}), { batchSize: 0 })).toThrow(/batchSize/);
    expect(() => poller(async () => ({}), { maximumRecordAgeInSeconds: 10 })).toThrow(/maximumRecordAgeInSeconds/);
    expect(() => poller(async () => ({}), { streamArn: 'my-stream' })).toThrow(/streamArn/);
  });
});
