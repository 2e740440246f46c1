/**
 * Recurring unknown visitors in the self processor: an unknown face is looked up in the visitors collection once
 * per track (indexed there once when new), its visitor rides on every record of the track, and a visit starts only
 * when the visitor comes (back) into view after the visit gap.
 */
import { analyseVideoSlice } from '../../../shared/use-cases/analyse-video-slice';
import type { ProcessorSettings } from '../../../shared/use-cases/processor-settings';
import { sightingId } from '../../../shared/domain/sighting';
import { newVisitorId } from '../../../shared/domain/visitor';
import {
  CollectingSink,
  CollectingSnapshots,
  FakeAnalyzer,
  FakeCropper,
  FakeFrameSource,
  FakeVisitorFaces,
  ScriptedProgress,
  VirtualClock,
  type FakeFace,
} from '../../support/self-processor-fakes';

const ARN = 'arn:aws:kinesisvideo:us-east-1:123456789012:stream/facewatch-dev-front-door/1700000000000';
const VIDEO_START = 1_700_000_000_000;
const SKEW = 300;

const settings: ProcessorSettings = {
  camera: 'front-door',
  collectionId: 'faces',
  faceMatchThreshold: 85.5,
  maxFaces: 3,
  samplingFps: 5,
  snapshots: true,
  visitorCollectionId: 'visitors',
  visitGapSeconds: 2,
};

const alice: FakeFace = { person: 'alice', box: { Left: 0.1, Top: 0.3, Width: 0.1, Height: 0.15 } };
const dana: FakeFace = { person: null, stranger: 'dana', box: { Left: 0.5, Top: 0.3, Width: 0.12, Height: 0.18 } };
const eli: FakeFace = { person: null, stranger: 'eli', box: { Left: 0.52, Top: 0.31, Width: 0.12, Height: 0.18 } };

function world(videoMs: number, faces: (producerMs: number) => FakeFace[]) {
  const clock = new VirtualClock(VIDEO_START + SKEW);
  const frames = new FakeFrameSource({
    arn: ARN,
    producerStartMs: VIDEO_START,
    fragmentMs: 1000,
    serverSkewMs: SKEW,
    videoFps: 25,
    liveUntil: () => Math.min(clock.ms - SKEW, VIDEO_START + videoMs),
    facesAt: faces,
  });
  return { clock, frames, analyzer: new FakeAnalyzer(), cropper: new FakeCropper(), sink: new CollectingSink(), snapshots: new CollectingSnapshots(), visitors: new FakeVisitorFaces() };
}

const run = (w: ReturnType<typeof world>, overrides: Partial<ProcessorSettings> = {}, logger?: { info: jest.Mock; warn: jest.Mock }) =>
  analyseVideoSlice(
    { settings: { ...settings, ...overrides }, cursorMs: VIDEO_START + SKEW, deadlineMs: w.clock.ms + 20_000 },
    { frames: w.frames, analyzer: w.analyzer, cropper: w.cropper, sink: w.sink, snapshots: w.snapshots, visitors: w.visitors, progress: new ScriptedProgress(), clock: w.clock, logger },
  );

const entries = (w: ReturnType<typeof world>) => w.sink.records.flatMap(({ record }) => record.FaceSearchResponse.map((entry, faceIndex) => ({ record, entry, faceIndex })));

describe('recurring unknown visitors in the self processor', () => {
  it('given a stranger in view, then one visitor lookup for the whole visit: indexed once, the same visitor on every frame, the visit starting on the first', async () => {
    const w = world(3000, () => [dana]);

    const result = await run(w);

    const faces = entries(w);
    expect(faces).toHaveLength(15);
    expect(result).toMatchObject({ facesSearched: 1, visitorLookups: 1, visitorsIndexed: 1 });
    // one search in the visitors collection (nobody there yet), one IndexFaces, both with the processor's settings
    expect(w.visitors.searches).toHaveLength(1);
    expect(w.visitors.searches[0].options).toEqual({ collectionId: 'visitors', faceMatchThreshold: 85.5 });
    expect(w.visitors.indexed).toHaveLength(1);
    // the id comes from the first sighting of the face
    const first = faces[0].record.InputInformation.KinesisVideo;
    const visitorId = newVisitorId(sightingId(ARN, first.FragmentNumber, first.FrameOffsetInSeconds, 0));
    expect(w.visitors.indexed[0]).toEqual({ collectionId: 'visitors', visitorId });
    expect(faces[0].entry.Visitor).toEqual({ VisitorId: visitorId, VisitStart: true, FaceId: 'visitor-face-1' });
    for (const { entry } of faces.slice(1)) expect(entry.Visitor).toEqual({ VisitorId: visitorId });
    // the face itself stays unknown, exactly as Rekognition reports it
    expect(faces.every(({ entry }) => entry.MatchedFaces.length === 0)).toBe(true);
    // the index holds the crop that was searched in the faces collection: one face, the stranger's
    expect(w.visitors.searches[0].faces.map((f) => f.stranger)).toEqual(['dana']);
  });

  it('given the stranger leaves and comes back after the visit gap, then the same visitor is found again (not indexed twice) and a second visit starts; back within the gap, the visit goes on', async () => {
    // in view 0–1 s, away 1–4 s (more than the 2 s gap), back 4–5 s, away 5–6 s (within the gap), back 6–7 s
    const inView = (ms: number) => {
      const t = ms - VIDEO_START;
      return (t < 1000) || (t >= 4000 && t < 5000) || (t >= 6000 && t < 7000);
    };
    const w = world(7000, (ms) => (inView(ms) ? [dana] : []));

    await run(w);

    const faces = entries(w);
    const ids = new Set(faces.map(({ entry }) => entry.Visitor?.VisitorId));
    expect(ids.size).toBe(1);
    expect(w.visitors.indexed).toHaveLength(1);
    // a lookup per track (three appearances), a visit start for the first two only
    expect(w.visitors.searches).toHaveLength(3);
    const starts = faces.filter(({ entry }) => entry.Visitor?.VisitStart).map(({ record }) => Math.round((record.InputInformation.KinesisVideo.ProducerTimestamp + record.InputInformation.KinesisVideo.FrameOffsetInSeconds) * 1000) - VIDEO_START);
    expect(starts).toEqual([0, 4000]);
    expect(faces.find(({ entry }) => entry.Visitor?.VisitStart && entry.Visitor.Similarity)?.entry.Visitor).toMatchObject({ FaceId: 'visitor-face-1', Similarity: 97.25 });
  });

  it('given a registered person, then no visitor is looked up and the record has no Visitor field', async () => {
    const w = world(1000, () => [alice]);

    await run(w);

    expect(w.visitors.searches).toHaveLength(0);
    expect(entries(w).every(({ entry }) => !('Visitor' in entry) && entry.MatchedFaces[0].Face.ExternalImageId === 'alice')).toBe(true);
  });

  it('given two strangers at once, then two visitors', async () => {
    const w = world(1000, () => [dana, { ...eli, box: { Left: 0.1, Top: 0.3, Width: 0.1, Height: 0.15 } }]);

    await run(w);

    expect(w.visitors.indexed).toHaveLength(2);
    for (const { record } of w.sink.records) {
      const [a, b] = record.FaceSearchResponse.map((e) => e.Visitor?.VisitorId);
      expect(a).toBeDefined();
      expect(b).toBeDefined();
      expect(a).not.toBe(b);
    }
  });

  it('given the face is searched again for its refresh, then it keeps its visitor without another lookup', async () => {
    const w = world(3000, () => [dana]);

    await run(w, { searchRefreshSeconds: 1 });

    expect(w.analyzer.searches.length).toBeGreaterThanOrEqual(3); // the faces collection is asked every second
    expect(w.visitors.searches).toHaveLength(1); // the visitors collection once
    expect(new Set(entries(w).map(({ entry }) => entry.Visitor?.VisitorId)).size).toBe(1);
  });

  it('given another stranger takes the place of the first (another look), then they are looked up and become another visitor', async () => {
    const w = world(2000, (ms) => (ms - VIDEO_START < 1000 ? [dana] : [eli]));

    await run(w);

    expect(w.visitors.indexed).toHaveLength(2);
    const byTime = entries(w).map(({ entry }) => entry.Visitor?.VisitorId);
    expect(new Set(byTime.slice(0, 5)).size).toBe(1);
    expect(new Set(byTime.slice(5)).size).toBe(1);
    expect(byTime[0]).not.toBe(byTime[9]);
  });

  it('without a visitors collection, records keep Rekognition\'s shape and nothing is looked up', async () => {
    const w = world(1000, () => [dana]);

    await run(w, { visitorCollectionId: undefined });

    expect(w.visitors.searches).toHaveLength(0);
    expect(entries(w).every(({ entry }) => Object.keys(entry).sort().join() === 'DetectedFace,MatchedFaces')).toBe(true);
  });

  it('given the visitors collection fails or refuses the face, then the sightings still go out, without a visitor', async () => {
    const w = world(1000, () => [dana]);
    w.visitors.failWith = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const logger = { info: jest.fn(), warn: jest.fn() };

    await run(w, {}, logger);

    expect(entries(w)).toHaveLength(5);
    expect(entries(w).every(({ entry }) => entry.Visitor === undefined)).toBe(true);
    expect(logger.warn).toHaveBeenCalledWith('Visitor not identified: the face is recorded without one', expect.objectContaining({ error: 'Rate exceeded' }));

    const refused = world(1000, () => [dana]);
    refused.visitors.refuseIndex = true;
    await run(refused);
    expect(entries(refused).every(({ entry }) => entry.Visitor === undefined)).toBe(true);
  });
});
