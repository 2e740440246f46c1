/**
 * The consumer's side of recurring unknown visitors: sightings of a visitor carry its id; a visit start counts a
 * visit (once, whatever the redeliveries, and only after the visit gap); other frames move lastSeenAt forward at
 * most every 10 s; the best snapshot is the largest, most frontal face seen.
 */
import { decodeFaceSearchRecord, type FaceSearchRecord } from '../../../shared/domain/face-search-record';
import { cameraResolver } from '../../../shared/domain/sighting';
import { snapshotKeyOf } from '../../../shared/domain/snapshot-key';
import { snapshotScore, type RecordVisitor } from '../../../shared/domain/visitor';
import { recordSightings, visitorsEvery, type RecordSightingsSettings } from '../../../shared/use-cases/record-sightings';
import { UNKNOWN_PERSON } from '../../../shared/tables';
import { faceSearchRecord, matchedFace, toBase64 } from '../../fixtures/face-search-records';
import { InMemoryVisitorLog, inMemoryPorts } from '../../support/in-memory-consumer-ports';

const STREAM = 'arn:aws:kinesisvideo:us-east-1:123456789012:stream/facewatch-dev-front-door/1700000000000';
const START = 1_700_000_000; // s
const settings: RecordSightingsSettings = {
  sightings: { faceMatchThreshold: 85.5, retentionDays: 30 },
  alerts: { cooldownSeconds: 60, unknownAlerts: false, unknownCooldownSeconds: 60, watchlistOnly: false },
  cameraOf: cameraResolver({ 'front-door': { videoStream: 'facewatch-dev-front-door' } }),
  snapshots: true,
  samplingIntervalMs: 200,
  visitGapSeconds: 60,
};
const VISITOR = 'v-0123456789abcdef';

/** A frame `ms` after START with one face: unknown (with the processor's Visitor field) unless `matches` name someone. */
function frame(ms: number, visitor?: RecordVisitor, options: { matches?: ReturnType<typeof matchedFace>[]; width?: number } = {}): FaceSearchRecord {
  const record = faceSearchRecord({
    streamArn: STREAM,
    producerTimestamp: START + Math.floor(ms / 1000),
    frameOffset: (ms % 1000) / 1000,
    fragmentNumber: String(1000 + Math.floor(ms / 1000)),
    faces: [{ matches: options.matches ?? [] }],
  });
  const entry = record.FaceSearchResponse[0];
  if (options.width) entry.DetectedFace.BoundingBox = { ...entry.DetectedFace.BoundingBox, Width: options.width, Height: options.width * 1.3 };
  if (visitor) Object.assign(entry, { Visitor: visitor });
  return record;
}
const at = (ms: number) => new Date(START * 1000 + ms).toISOString();

function setup() {
  const table = new InMemoryVisitorLog();
  const ports = { ...inMemoryPorts(), visitors: visitorsEvery(table, 10_000) };
  return { table, ports };
}

describe('recording recurring unknown visitors', () => {
  it('given a visit start, then the visitor is created with one visit, its face, the camera and the snapshot the processor kept; the sighting carries the visitor', async () => {
    const { table, ports } = setup();

    const outcome = await recordSightings(frame(100, { VisitorId: VISITOR, VisitStart: true, FaceId: 'face-1' }), ports, settings);

    const [sighting] = outcome.sightings;
    expect(sighting).toMatchObject({ personId: UNKNOWN_PERSON, visitorId: VISITOR });
    expect(ports.sightings.items.get(sighting.sightingId)?.visitorId).toBe(VISITOR);
    expect(table.items.get(VISITOR)).toEqual({
      visits: 1,
      firstSeenAt: at(100),
      lastSeenAt: at(100),
      lastSeenCamera: 'front-door',
      faceIds: new Set(['face-1']),
      // not one of the once-a-second frames: the snapshot the processor keeps of every face it looks up
      bestSnapshotKey: snapshotKeyOf('front-door', sighting.sightingId),
      bestScore: snapshotScore(sighting.boundingBox, sighting.pose),
    });
  });

  it('given five frames a second for 30 s, then lastSeenAt follows at most every 10 s, and a snapshot is offered only when larger', async () => {
    const { table, ports } = setup();
    await recordSightings(frame(0, { VisitorId: VISITOR, VisitStart: true, FaceId: 'face-1' }, { width: 0.1 }), ports, settings);
    const start = table.writes;

    // the face grows as the visitor walks up to the camera, then steps back
    for (let ms = 200; ms <= 30_000; ms += 200) await recordSightings(frame(ms, { VisitorId: VISITOR }, { width: ms <= 15_000 ? 0.1 + ms / 100_000 : 0.1 }), ports, settings);

    const item = table.items.get(VISITOR)!;
    expect(item.visits).toBe(1);
    expect(item.lastSeenAt).toBe(at(30_000));
    // 150 frames: 3 lastSeenAt writes (10, 20, 30 s) and one snapshot offer per once-a-second frame that grew (15)
    expect(table.writes - start).toBe(3 + 15);
    expect(item.bestSnapshotKey).toBe(ports.sightings.items.get([...ports.sightings.items.values()].find((s) => s.seenAt === at(15_000))!.sightingId)!.snapshotKey);
  });

  it('given the same visit start delivered again, then the visit is counted once', async () => {
    const { table, ports } = setup();
    const start = frame(0, { VisitorId: VISITOR, VisitStart: true, FaceId: 'face-1' });

    await recordSightings(start, ports, settings);
    await recordSightings(start, ports, settings);
    // and with a fresh process (no memory), as after a cold start
    await recordSightings(start, { ...ports, visitors: visitorsEvery(table, 10_000) }, settings);

    expect(table.items.get(VISITOR)?.visits).toBe(1);
  });

  it('given the visitor comes back, then a second visit after the gap, none within it (a continued visit), lastSeenAt moving on', async () => {
    const { table, ports } = setup();
    const start = (ms: number) => recordSightings(frame(ms, { VisitorId: VISITOR, VisitStart: true, FaceId: 'face-1', Similarity: 97 }), ports, settings);

    await start(0);
    await start(30_000); // back after 30 s: the same visit (gap 60 s)
    expect(table.items.get(VISITOR)).toMatchObject({ visits: 1, lastSeenAt: at(30_000) });
    await start(200_000); // back after ~3 min
    expect(table.items.get(VISITOR)).toMatchObject({ visits: 2, lastSeenAt: at(200_000), firstSeenAt: at(0) });
  });

  it('given a face the consumer names (its threshold), then no visitor even if the processor sent one', async () => {
    const { table, ports } = setup();

    const outcome = await recordSightings(frame(0, { VisitorId: VISITOR, VisitStart: true }, { matches: [matchedFace('alice', 97)] }), ports, settings);

    expect(outcome.sightings[0]).toMatchObject({ personId: 'alice' });
    expect(outcome.sightings[0].visitorId).toBeUndefined();
    expect(table.items.size).toBe(0);
  });

  it('given frames of a visitor that was named or erased meanwhile, then the visitor is not created again', async () => {
    const { table, ports } = setup();

    await recordSightings(frame(0, { VisitorId: VISITOR }), ports, settings);

    expect(table.items.size).toBe(0);
  });

  it('without a visitors table, sightings still carry the visitor and nothing else is written', async () => {
    const ports = inMemoryPorts();

    const outcome = await recordSightings(frame(0, { VisitorId: VISITOR, VisitStart: true }), ports, settings);

    expect(outcome.sightings[0].visitorId).toBe(VISITOR);
  });

  it('decodes a record whose Visitor field is malformed as a plain unknown face (never a poison record)', () => {
    const record = frame(0);
    Object.assign(record.FaceSearchResponse[0], { Visitor: { VisitorId: 'not a visitor id', VisitStart: 'yes' } });

    const decoded = decodeFaceSearchRecord(toBase64(record));

    expect(decoded.FaceSearchResponse[0].Visitor).toBeUndefined();
    expect(decoded.FaceSearchResponse[0].MatchedFaces).toEqual([]);
  });
});
