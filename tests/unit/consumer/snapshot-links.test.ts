import { S3Client } from '@aws-sdk/client-s3';
import { S3SnapshotLinks } from '../../../shared/adapters/snapshot-links';
import { cameraResolver } from '../../../shared/domain/sighting';
import { keepsSnapshot, snapshotKey } from '../../../shared/domain/snapshot-key';
import { recordSightings, type RecordSightingsSettings } from '../../../shared/use-cases/record-sightings';
import { listSightings } from '../../../shared/use-cases/sightings';
import { faceSearchRecord, matchedFace } from '../../fixtures/face-search-records';
import { inMemoryPorts } from '../../support/in-memory-consumer-ports';
import { FakeSightingHistory, sighting } from '../../support/people-fakes';

const STREAM = 'arn:aws:kinesisvideo:us-east-1:123456789012:stream/facewatch-dev-front-door/1700000000000';
const base: RecordSightingsSettings = {
  sightings: { faceMatchThreshold: 85.5, retentionDays: 30 },
  alerts: { cooldownSeconds: 60, unknownAlerts: false, unknownCooldownSeconds: 60, watchlistOnly: false },
  cameraOf: cameraResolver({ 'front-door': { videoStream: 'facewatch-dev-front-door' } }),
};
const profiles = { alice: { displayName: 'Alice', rules: { muted: false, watchlist: true } } };
/** A frame in the first 200 ms of its second: one of the frames that keep a snapshot of every face. */
const record = faceSearchRecord({ streamArn: STREAM, producerTimestamp: 1_700_000_000, frameOffset: 0.1, fragmentNumber: '91343852333181432392682062607743920146264320000', faces: [{ matches: [matchedFace('alice', 97)] }, { matches: [] }] });
const kept = new Set<string>();
const links = { urlFor: jest.fn(async (key: string) => `https://bucket.example/${key}?X-Amz-Signature=abc`), exists: jest.fn(async (key: string) => kept.has(key)), lifetimeSeconds: 5400 };

describe('snapshot links (self processor snapshots)', () => {
  beforeEach(() => {
    links.urlFor.mockClear();
    links.exists.mockClear();
    kept.clear();
  });

  it('given snapshots on, links each sighting to the key the processor wrote and puts a presigned URL in the email', async () => {
    const ports = { ...inMemoryPorts(profiles), snapshotLinks: links };

    const outcome = await recordSightings(record, ports, { ...base, snapshots: true });

    const expectedKeys = [0, 1].map((faceIndex) => snapshotKey({ camera: 'front-door', streamArn: STREAM, fragmentNumber: '91343852333181432392682062607743920146264320000', frameOffsetInSeconds: 0.1, faceIndex }));
    expect([...ports.sightings.items.values()].map((s) => s.snapshotKey)).toEqual(expectedKeys);
    expect(outcome.sightings.map((s) => s.snapshotKey)).toEqual(expectedKeys);
    expect(expectedKeys[0]).toMatch(/^snapshots\/front-door\/.+\.jpg$/);
    const email = JSON.parse(ports.publisher.published[0].message).email as string;
    expect(email).toContain(`Snapshot:      https://bucket.example/${expectedKeys[0]}?X-Amz-Signature=abc`);
    expect(email).toContain('(the link works for 1 h 30 min after the alert was sent)');
    expect(links.urlFor).toHaveBeenCalledTimes(1); // only the alerted sighting is signed
  });

  it('given a console URL, the email links the alerted sighting\'s console page as well as its snapshot', async () => {
    const ports = { ...inMemoryPorts(profiles), snapshotLinks: links };

    const outcome = await recordSightings(record, ports, { ...base, snapshots: true, consoleUrl: 'http://127.0.0.1:3000/console/' });

    const alerted = outcome.alerts.find((a) => a.result === 'sent')!;
    const email = JSON.parse(ports.publisher.published[0].message).email as string;
    expect(email).toContain(`In the console: http://127.0.0.1:3000/console/#/sightings/${alerted.sightingId}`);
    expect(email).toContain('Snapshot:      https://bucket.example/');
  });

  it('given snapshots off (managed processor), sightings have no key and the email no link', async () => {
    const ports = { ...inMemoryPorts(profiles), snapshotLinks: links };

    await recordSightings(record, ports, base);

    expect([...ports.sightings.items.values()].every((s) => s.snapshotKey === undefined)).toBe(true);
    expect(JSON.parse(ports.publisher.published[0].message).email).not.toContain('Snapshot:');
    expect(links.urlFor).not.toHaveBeenCalled();
  });

  it('when signing fails, the alert still goes out, without the link, and the failure is logged', async () => {
    const ports = { ...inMemoryPorts(profiles), snapshotLinks: { urlFor: jest.fn().mockRejectedValue(new Error('no credentials')), exists: jest.fn(async () => true), lifetimeSeconds: 3600 } };

    const outcome = await recordSightings(record, ports, { ...base, snapshots: true });

    expect(outcome.alerts[0].result).toBe('sent');
    expect(JSON.parse(ports.publisher.published[0].message).email).not.toContain('Snapshot:');
    expect(ports.logger.warn).toHaveBeenCalledWith(expect.stringContaining('snapshot link'), expect.objectContaining({ sightingId: outcome.sightings[0].sightingId }));
  });

  it('given a frame between the kept ones, its sightings link no snapshot, but its alert links the one kept when the face was searched', async () => {
    // Given a frame 400 ms into its second (not one of the 1-a-second frames), whose first face the processor searched
    const between = faceSearchRecord({ streamArn: STREAM, producerTimestamp: 1_700_000_000, frameOffset: 0.4, fragmentNumber: '91343852333181432392682062607743920146264320000', faces: [{ matches: [matchedFace('alice', 97)] }, { matches: [] }] });
    const searchedKey = snapshotKey({ camera: 'front-door', streamArn: STREAM, fragmentNumber: '91343852333181432392682062607743920146264320000', frameOffsetInSeconds: 0.4, faceIndex: 0 });
    kept.add(searchedKey);
    const ports = { ...inMemoryPorts(profiles), snapshotLinks: links };

    // When its record is consumed
    await recordSightings(between, ports, { ...base, snapshots: true });

    // Then no sighting claims a snapshot, the alert asked whether its own was kept and links it
    expect([...ports.sightings.items.values()].map((s) => s.snapshotKey)).toEqual([undefined, undefined]);
    expect(links.exists).toHaveBeenCalledWith(searchedKey);
    expect(JSON.parse(ports.publisher.published[0].message).email).toContain(`Snapshot:      https://bucket.example/${searchedKey}?X-Amz-Signature=abc`);
  });

  it('keeps about one frame a second at 5 frames/s, every frame at 1 frame/s or slower', () => {
    // Given 10 s of frames at 5 frames/s, jittered by whole video frames
    const start = 1_700_000_000_037;
    const frames = Array.from({ length: 50 }, (_, i) => start + i * 200 + ((i * 37) % 3) * 40); // 10 s, jittered by whole video frames
    // When each is asked whether it keeps a snapshot
    const kept = frames.filter((t) => keepsSnapshot(t, 200));
    // Then about one a second is kept; at 1 frame/s every frame is
    expect(kept.length).toBeGreaterThanOrEqual(8);
    expect(kept.length).toBeLessThanOrEqual(12);
    expect([0, 1000, 2000].every((t) => keepsSnapshot(start + t, 1000))).toBe(true);
  });

  it('GET /sightings answers a presigned snapshotUrl for sightings that have a snapshot, and none for the others', async () => {
    const history = new FakeSightingHistory();
    history.sightings = [
      sighting({ sightingId: 'a', personId: 'bob', camera: 'garage', seenAt: '2025-03-10T10:00:00.000Z', snapshotKey: 'snapshots/garage/a.jpg' }),
      sighting({ sightingId: 'b', personId: 'bob', camera: 'garage', seenAt: '2025-03-10T11:00:00.000Z' }),
    ];

    const { sightings } = await listSightings(history, { limit: 50 }, new Date('2025-03-10T12:00:00.000Z'), 30, links);

    expect(sightings.find((s) => s.sightingId === 'a')).toMatchObject({ snapshotKey: 'snapshots/garage/a.jpg', snapshotUrl: 'https://bucket.example/snapshots/garage/a.jpg?X-Amz-Signature=abc' });
    expect(sightings.find((s) => s.sightingId === 'b')).not.toHaveProperty('snapshotUrl');
  });

  it('S3SnapshotLinks presigns a GetObject of exactly that key for its lifetime (snapshotLinkSeconds)', async () => {
    // given
    const s3 = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });

    // when
    const url = new URL(await new S3SnapshotLinks(s3, 'faces-bucket', 3600).urlFor('snapshots/front-door/x.jpg'));

    // then
    expect(url.hostname).toBe('faces-bucket.s3.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/snapshots/front-door/x.jpg');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request$/);
  });
});
