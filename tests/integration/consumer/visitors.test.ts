/**
 * Recurring visitors in the consumer, in-process against kinesalite + dynalite (tables from resources/tables.yml):
 * records with the processor's Visitor field go through the Lambda-like poller into the consumer with the real
 * DynamoDB adapters; the visitors table and the sightings' byVisitor index are read back.
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import { createFaceSearchConsumer } from '../../../functions/consume-face-search/consumer';
import { KinesisPoller } from '../../../local/stack/kinesis-poller';
import { DynamoAlertStateStore } from '../../../shared/adapters/alert-state-store';
import { DynamoPersonRules } from '../../../shared/adapters/person-rules';
import { DynamoSightingHistory } from '../../../shared/adapters/sighting-history';
import { DynamoSightingStore } from '../../../shared/adapters/sighting-store';
import { DynamoVisitors } from '../../../shared/adapters/visitor-store';
import type { FaceSearchRecord } from '../../../shared/domain/face-search-record';
import { cameraResolver } from '../../../shared/domain/sighting';
import { snapshotKeyOf } from '../../../shared/domain/snapshot-key';
import type { RecordVisitor } from '../../../shared/domain/visitor';
import { tables, UNKNOWN_PERSON } from '../../../shared/tables';
import { visitorsEvery } from '../../../shared/use-cases/record-sightings';
import { faceSearchRecord, toBase64 } from '../../fixtures/face-search-records';
import { cameraResourcesEnv, createCameraStreams, createTables, startLocalAws, type LocalAws } from '../../support/local-aws';
import { RecordingAlertPublisher } from '../../support/recording-publisher';

const STAGE = 'visitorit';
const T0 = 1_700_000_000;
const DANA = 'v-00000000000000da';
const ELI = 'v-00000000000000e1';

describe('recurring visitors through the consumer (kinesalite, dynalite)', () => {
  let aws: LocalAws;
  let names: Record<string, string>;
  let visitors: DynamoVisitors;

  beforeAll(async () => {
    aws = await startLocalAws({ dynamodb: true, kinesis: true });
    names = await createTables(aws.dynamodb, STAGE);
    visitors = new DynamoVisitors(aws.documents, names.VisitorsTable);
  });
  afterAll(() => aws.stop());

  it('counts visits after the gap only, once per visit start whatever the redeliveries; lastSeenAt only forward; never recreates a removed visitor', async () => {
    const start = (seenAt: string) => visitors.startVisit({ visitorId: 'v-0000000000000001', seenAt, camera: 'front-door', gapSeconds: 60, faceId: 'face-1' });

    expect(await start('2026-12-01T10:00:00.000Z')).toBe('counted');
    expect(await start('2026-12-01T10:00:00.000Z')).toBe('same-visit'); // redelivered
    expect(await start('2026-12-01T10:00:30.000Z')).toBe('same-visit'); // back within the gap
    await visitors.seen('v-0000000000000001', '2026-12-01T10:00:45.000Z', 'garage');
    await visitors.seen('v-0000000000000001', '2026-12-01T10:00:40.000Z', 'front-door'); // older: ignored
    expect(await start('2026-12-01T10:05:00.000Z')).toBe('counted');
    await visitors.offerSnapshot('v-0000000000000001', 'snapshots/front-door/a.jpg', 0.02);
    await visitors.offerSnapshot('v-0000000000000001', 'snapshots/front-door/b.jpg', 0.01); // worse: ignored

    expect(await visitors.get('v-0000000000000001')).toEqual({
      visitorId: 'v-0000000000000001',
      visits: 2,
      firstSeenAt: '2026-12-01T10:00:00.000Z',
      lastSeenAt: '2026-12-01T10:05:00.000Z',
      lastSeenCamera: 'front-door',
      faceIds: ['face-1'],
      bestSnapshotKey: 'snapshots/front-door/a.jpg',
      bestScore: 0.02,
    });

    // removed (named or erased): later frames do not bring it back
    expect(await visitors.delete('v-0000000000000001')).toBe(true);
    await visitors.seen('v-0000000000000001', '2026-12-01T10:06:00.000Z', 'front-door');
    await visitors.offerSnapshot('v-0000000000000001', 'snapshots/front-door/c.jpg', 0.5);
    expect(await visitors.get('v-0000000000000001')).toBeUndefined();
  });

  it('given the records of two visitors delivered by the poller, then each visitor has its visits and the byVisitor index lists its sightings, newest first through GET /sightings\' adapter', async () => {
    const [streams] = await createCameraStreams(aws.kinesis, STAGE, ['front-door']);
    const videoArn = `arn:aws:kinesisvideo:us-east-1:000000000000:stream/${streams.videoStream}/1690000000000`;
    const frame = (second: number, faces: (RecordVisitor | undefined)[]): FaceSearchRecord => {
      const record = faceSearchRecord({ streamArn: videoArn, producerTimestamp: T0 + second, frameOffset: 0, fragmentNumber: `913438523331815068622030658750371520617963${1000 + second}`, faces: faces.map(() => ({ matches: [] })) });
      faces.forEach((v, i) => v && Object.assign(record.FaceSearchResponse[i], { Visitor: v }));
      return record;
    };
    const records = [
      frame(0, [{ VisitorId: DANA, VisitStart: true, FaceId: 'face-dana' }]),
      frame(1, [{ VisitorId: DANA }, { VisitorId: ELI, VisitStart: true, FaceId: 'face-eli' }]),
      frame(2, [{ VisitorId: DANA }, undefined]),
      // Dana back two minutes later: another visit
      frame(120, [{ VisitorId: DANA, VisitStart: true, FaceId: 'face-dana', Similarity: 96.5 }]),
    ];
    const consumer = createFaceSearchConsumer({
      ports: {
        sightings: new DynamoSightingStore(aws.documents, names.SightingsTable),
        alertState: new DynamoAlertStateStore(aws.documents, names.AlertStateTable),
        people: new DynamoPersonRules(aws.documents, names.PeopleTable),
        publisher: new RecordingAlertPublisher(),
        logger: { warn: () => undefined },
        visitors: visitorsEvery(visitors, 10_000),
      },
      settings: {
        sightings: { faceMatchThreshold: 85.5, retentionDays: 30 },
        alerts: { cooldownSeconds: 60, unknownAlerts: false, unknownCooldownSeconds: 60, watchlistOnly: false },
        cameraOf: cameraResolver(JSON.parse(cameraResourcesEnv(STAGE, ['front-door']))),
        snapshots: true,
        visitGapSeconds: 60,
      },
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
      metrics: { addMetric: jest.fn() },
    });
    await aws.kinesis.send(new PutRecordsCommand({ StreamName: streams.dataStream, Records: records.map((r) => ({ Data: Buffer.from(toBase64(r), 'base64'), PartitionKey: 'front-door' })) }));
    const poller = () =>
      new KinesisPoller({ client: aws.kinesis, streamArn: streams.dataStreamArn, handler: (event) => consumer(event as KinesisStreamEvent), startingPosition: 'TRIM_HORIZON', batchSize: 100, functionResponseType: 'ReportBatchItemFailures' });
    // delivered twice (a redelivery of the whole batch changes nothing)
    await poller().drain();
    await poller().drain();

    const dana = await visitors.get(DANA);
    expect(dana).toMatchObject({ visits: 2, firstSeenAt: new Date(T0 * 1000).toISOString(), lastSeenAt: new Date((T0 + 120) * 1000).toISOString(), faceIds: ['face-dana'] });
    expect(dana?.bestSnapshotKey).toMatch(/^snapshots\/front-door\/[0-9a-f]{32}\.jpg$/);
    expect(await visitors.get(ELI)).toMatchObject({ visits: 1, faceIds: ['face-eli'] });

    // the byVisitor index: Dana's four sightings, all unknown faces, newest first; the face without a visitor is in none
    const history = new DynamoSightingHistory(aws.documents, names.SightingsTable);
    const page = await history.query({ visitorId: DANA, since: '2023-01-01T00:00:00.000Z', until: '2030-01-01T00:00:00.000Z', limit: 10 });
    expect(page.items.map((s) => [s.seenAt, s.personId, s.visitorId])).toEqual(
      [120, 2, 1, 0].map((second) => [new Date((T0 + second) * 1000).toISOString(), UNKNOWN_PERSON, DANA]),
    );
    expect((await history.ofVisitor(DANA)).map((s) => s.camera)).toEqual(['front-door', 'front-door', 'front-door', 'front-door']);
    expect(dana?.bestSnapshotKey).toBe(snapshotKeyOf('front-door', page.items[3].sightingId));
    const visitorList = await visitors.list(10);
    expect(visitorList.items.map((v) => v.visitorId)).toEqual([DANA, ELI]);

    // naming moves them: personId set, visitorId gone (so they leave the index); a second move changes nothing
    const ids = page.items.map((s) => s.sightingId);
    expect(await history.moveToPerson(ids, DANA, 'Dana')).toBe(4);
    expect(await history.moveToPerson(ids, DANA, 'Dana')).toBe(0);
    expect(await history.ofVisitor(DANA)).toEqual([]);
    const { Item } = await aws.documents.send(new GetCommand({ TableName: names.SightingsTable, Key: { [tables.sightings.partitionKey]: ids[0] } }));
    expect(Item).toMatchObject({ personId: 'Dana' });
    expect(Item).not.toHaveProperty('visitorId');
    const { Items = [] } = await aws.documents.send(
      new QueryCommand({ TableName: names.SightingsTable, IndexName: tables.sightings.byPersonIndex.name, KeyConditionExpression: 'personId = :p', ExpressionAttributeValues: { ':p': 'Dana' } }),
    );
    expect(Items).toHaveLength(4);
  });
});
