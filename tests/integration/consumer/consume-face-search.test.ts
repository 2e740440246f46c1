import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import { createFaceSearchConsumer } from '../../../functions/consume-face-search/consumer';
import { KinesisPoller, type KinesisInvocation } from '../../../local/stack/kinesis-poller';
import { DynamoAlertStateStore } from '../../../shared/adapters/alert-state-store';
import { DynamoPersonRules } from '../../../shared/adapters/person-rules';
import { DynamoSightingStore } from '../../../shared/adapters/sighting-store';
import type { Sighting } from '../../../shared/domain/model';
import { cameraResolver } from '../../../shared/domain/sighting';
import { peopleKeys, UNKNOWN_PERSON } from '../../../shared/tables';
import type { RecordSightingsPorts } from '../../../shared/use-cases/record-sightings';
import { faceSearchRecord, matchedFace, toBase64 } from '../../fixtures/face-search-records';
import { withFaults } from '../../support/fault-injection';
import { cameraResourcesEnv, createCameraStreams, createTables, serverlessResolver, startLocalAws, type CameraStreams, type LocalAws } from '../../support/local-aws';
import { RecordingAlertPublisher } from '../../support/recording-publisher';

/**
 * The consumer in-process against kinesalite + dynalite: records are put into a camera's face-search
 * stream, read back by the Lambda-like poller (local/stack/kinesis-poller.ts) with the delivery settings of
 * serverless.yml, and handled by the consumer with the real DynamoDB adapters. Alerts go to a recording
 * publisher behind the AlertPublisher port (the SNS adapter is covered by its own unit test).
 */
describe('consumeFaceSearch against Kinesis and DynamoDB emulators', () => {
  let aws: LocalAws;
  let tableNames: Record<string, string>;
  let streams: Record<string, CameraStreams>;
  let run = 0;
  const STAGE = 'consumer';
  const T0 = 1_700_000_000;

  // The delivery settings serverless.yml gives the consumer's stream events (custom.faceSearchBatch).
  const declared = JSON.parse(serverlessResolver(STAGE)('${self:custom.faceSearchBatch.maximumRetryAttempts}')) as number;

  beforeAll(async () => {
    aws = await startLocalAws({ dynamodb: true, kinesis: true });
    tableNames = await createTables(aws.dynamodb, STAGE);
    const profile = (personId: string, displayName: string, rules: { muted: boolean; watchlist: boolean }) => ({
      ...peopleKeys.person(personId),
      ...peopleKeys.peopleIndex(personId),
      personId,
      displayName,
      rules,
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:00.000Z',
    });
    for (const item of [profile('alice', 'Alice', { muted: false, watchlist: true }), profile('bob', 'Bob', { muted: true, watchlist: false }), profile('carol', 'Carol', { muted: false, watchlist: false })]) {
      await aws.documents.send(new PutCommand({ TableName: tableNames.PeopleTable, Item: item }));
    }
  });
  afterAll(() => aws.stop());

  /** Each test has its own streams (a stage of its own) and its own day: its own records, sighting ids and alert windows. */
  function videoStreamArn(camera: string) {
    return `arn:aws:kinesisvideo:us-east-1:000000000000:stream/${streams[camera].videoStream}/${1_690_000_000_000 + run}`;
  }

  function frame(camera: string, second: number, faces: { matches: ReturnType<typeof matchedFace>[] }[]) {
    return toBase64(faceSearchRecord({ streamArn: videoStreamArn(camera), producerTimestamp: T0 + run * 86_400 + second, frameOffset: 0.25, fragmentNumber: `9134385233318150686220306587503715206179636${run}${second}`, faces }));
  }

  async function put(camera: string, data: string[]): Promise<void> {
    await aws.kinesis.send(
      new PutRecordsCommand({ StreamName: streams[camera].dataStream, Records: data.map((d) => ({ Data: Buffer.from(d, 'base64'), PartitionKey: camera })) }),
    );
  }

  async function setUp(wrap: (ports: RecordSightingsPorts) => RecordSightingsPorts = (p) => p) {
    run += 1;
    const stage = `${STAGE}${run}`;
    streams = {};
    for (const s of await createCameraStreams(aws.kinesis, stage, ['front-door', 'garage'])) streams[s.camera] = s;
    const publisher = new RecordingAlertPublisher();
    const ports = wrap({
      sightings: new DynamoSightingStore(aws.documents, tableNames.SightingsTable),
      alertState: new DynamoAlertStateStore(aws.documents, tableNames.AlertStateTable),
      people: new DynamoPersonRules(aws.documents, tableNames.PeopleTable),
      publisher,
      logger: { warn: () => undefined },
    });
    const logger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
    const consumer = createFaceSearchConsumer({
      ports,
      settings: {
        sightings: { faceMatchThreshold: 85.5, retentionDays: 30 },
        alerts: { cooldownSeconds: 60, unknownAlerts: false, unknownCooldownSeconds: 60, watchlistOnly: false },
        cameraOf: cameraResolver(JSON.parse(cameraResourcesEnv(stage, ['front-door', 'garage']))),
      },
      logger,
      metrics: { addMetric: jest.fn() },
    });
    const events: KinesisStreamEvent[] = [];
    const invocations: KinesisInvocation[] = [];
    const pollerFor = (camera: string, batchSize: number) =>
      new KinesisPoller({
        client: aws.kinesis,
        streamArn: streams[camera].dataStreamArn,
        handler: async (event, context) => {
          events.push(event);
          return consumer(event, context);
        },
        // As declared in serverless.yml, but from the start of the stream, in small batches and without waiting to fill them.
        startingPosition: 'TRIM_HORIZON',
        batchSize,
        maximumBatchingWindow: 0,
        maximumRetryAttempts: declared,
        bisectBatchOnFunctionError: true,
        functionResponseType: 'ReportBatchItemFailures',
        onInvoke: (i) => invocations.push(i),
      });
    return { publisher, consumer, logger, events, invocations, pollerFor };
  }

  async function sightingsOfRun(): Promise<Sighting[]> {
    const { Items } = await aws.documents.send(new ScanCommand({ TableName: tableNames.SightingsTable }));
    const arns = new Set(['front-door', 'garage'].map(videoStreamArn));
    return ((Items ?? []) as Sighting[]).filter((s) => arns.has(s.streamArn)).sort((a, b) => a.seenAt.localeCompare(b.seenAt) || a.faceIndex - b.faceIndex);
  }

  it('turns the records of a stream into sightings and alerts, per camera, skipping a poison record', async () => {
    // Given a run of frames on two cameras (times in seconds after T0), with one record that is not JSON
    const { publisher, pollerFor, logger } = await setUp();
    const day = new Date((T0 + run * 86_400) * 1000).toISOString().slice(0, 10);
    await put('front-door', [
      frame('front-door', 0, [{ matches: [matchedFace('alice', 97)] }, { matches: [] }]), // Alice alerts; the unknown face does not (off)
      frame('front-door', 10, [{ matches: [matchedFace('alice', 95)] }]), // cooldown
      toBase64('{"truncated": '),
      frame('front-door', 20, [{ matches: [matchedFace('bob', 99)] }]), // Bob is muted
      frame('front-door', 30, [{ matches: [matchedFace('carol', 84)] }]), // below threshold: unknown
      frame('front-door', 70, [{ matches: [matchedFace('alice', 96)] }]), // cooldown over
    ]);
    await put('garage', [frame('garage', 15, [{ matches: [matchedFace('alice', 92)] }])]); // another camera, its own window

    // When the poller delivers both streams to the consumer
    await pollerFor('front-door', 4).drain();
    await pollerFor('garage', 4).drain();

    // Then every detected face is a sighting, and alerts follow the rules
    const sightings = await sightingsOfRun();
    expect(sightings.map((s) => [s.camera, s.seenAt.slice(11, 19), s.personId])).toEqual([
      ['front-door', '22:13:20', 'alice'],
      ['front-door', '22:13:20', UNKNOWN_PERSON],
      ['front-door', '22:13:30', 'alice'],
      ['garage', '22:13:35', 'alice'],
      ['front-door', '22:13:40', 'bob'],
      ['front-door', '22:13:50', UNKNOWN_PERSON],
      ['front-door', '22:14:30', 'alice'],
    ]);
    expect(publisher.published.map((m) => [m.attributes.person, m.attributes.camera])).toEqual([
      ['alice', 'front-door'],
      ['alice', 'front-door'],
      ['alice', 'garage'],
    ]);
    expect(JSON.parse(publisher.published[0].message).sms).toBe(`facewatch: Alice at front-door, ${day} 22:13:20 UTC (97.0%)`);
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('not a face-search record'), expect.objectContaining({ reason: expect.stringMatching(/not JSON/) }));
  });

  it('writes nothing new and sends nothing again when the same batches are delivered again', async () => {
    // Given a stream processed once
    const { publisher, consumer, events, pollerFor } = await setUp();
    await put('front-door', [
      frame('front-door', 0, [{ matches: [matchedFace('alice', 97)] }]),
      frame('front-door', 1, [{ matches: [matchedFace('carol', 97)] }, { matches: [] }]),
      frame('front-door', 2, [{ matches: [matchedFace('alice', 97)] }]),
    ]);
    await pollerFor('front-door', 10).drain();
    const before = await sightingsOfRun();
    const sent = publisher.published.length;

    // When Lambda delivers the same batches again
    for (const event of events.slice()) expect(await consumer(event)).toEqual({ batchItemFailures: [] });

    // Then the tables and the alerts are as they were
    expect(before).toHaveLength(4);
    expect(sent).toBe(2);
    expect(await sightingsOfRun()).toEqual(before);
    expect(publisher.published).toHaveLength(sent);
  });

  it('after a DynamoDB failure mid-batch, the retry resumes from the failed record: nothing lost, nothing sent twice', async () => {
    // Given DynamoDB throttles the 3rd sighting write once
    let wrapped: ReturnType<typeof withFaults<DynamoSightingStore>> | undefined;
    const { publisher, invocations, pollerFor, events } = await setUp((ports) => ({
      ...ports,
      sightings: (wrapped = withFaults(ports.sightings as DynamoSightingStore, { putIfAbsent: { failCalls: [2] } })),
    }));
    const people = ['alice', 'carol', 'alice', 'carol', 'alice'];
    await put('front-door', people.map((person, i) => frame('front-door', i * 61, [{ matches: [matchedFace(person, 97)] }])));

    // When the poller delivers the stream in one batch
    await pollerFor('front-door', 10).drain();

    // Then the first invocation failed from record 2, the retry started there
    const sequence = events[0].Records.map((r) => r.kinesis.sequenceNumber);
    expect(invocations.map((i) => [i.outcome, i.sequenceNumbers[0], i.checkpoint])).toEqual([
      ['partial', sequence[0], sequence[2]],
      ['success', sequence[2], undefined],
    ]);
    // ...records 3 and 4 were not written ahead of the retry, record 2 was attempted twice
    expect(wrapped!.calls.putIfAbsent!.map(([s]) => (s as Sighting).personId)).toEqual(['alice', 'carol', 'alice', 'alice', 'carol', 'alice']);
    // ...and every sighting and alert is there exactly once
    expect((await sightingsOfRun()).map((s) => s.personId)).toEqual(people);
    expect(publisher.people()).toEqual(people);
  });

  it('after an SNS outage mid-batch, the retried record publishes its alert once', async () => {
    // Given SNS fails the 2nd alert once
    const { publisher, invocations, pollerFor } = await setUp();
    const original = publisher.publish.bind(publisher);
    let calls = 0;
    publisher.publish = async (message) => {
      calls += 1;
      if (calls === 2) throw Object.assign(new Error('SNS unavailable'), { name: 'InternalErrorException' });
      return original(message);
    };
    await put('front-door', ['alice', 'carol', 'alice'].map((person, i) => frame('front-door', i * 100, [{ matches: [matchedFace(person, 97)] }])));

    // When delivered
    await pollerFor('front-door', 10).drain();

    // Then one retry from the failed record, and each alert went out once
    expect(invocations.map((i) => i.outcome)).toEqual(['partial', 'success']);
    expect(publisher.people()).toEqual(['alice', 'carol', 'alice']);
    expect(await sightingsOfRun()).toHaveLength(3);
  });
});
