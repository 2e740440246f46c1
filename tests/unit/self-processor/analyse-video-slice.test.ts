import { ProcessorFailure } from '../../../shared/use-cases/processor-errors';
import { ProcessorSettingsError, type ProcessorSettings } from '../../../shared/use-cases/processor-settings';
import { THUMBNAIL_HEIGHT, THUMBNAIL_WIDTH } from '../../../shared/use-cases/processor-ports';
import { analyseVideoSlice } from '../../../shared/use-cases/analyse-video-slice';
import { thumbnailChange } from '../../../shared/use-cases/analyse-frame';
import { snapshotKey } from '../../../shared/domain/snapshot-key';
import {
  CollectingSink,
  CollectingSnapshots,
  FakeAnalyzer,
  FakeCropper,
  FakeFrameSource,
  FakeThumbnailCropper,
  ScriptedProgress,
  VirtualClock,
  type FakeFace,
} from '../../support/self-processor-fakes';

const ARN = 'arn:aws:kinesisvideo:us-east-1:123456789012:stream/facewatch-dev-front-door/1700000000000';
const VIDEO_START = 1_700_000_000_000; // producer clock
const SKEW = 300; // the server clock runs 300 ms ahead of the camera's
const FIRST_FRAGMENT = 91343852333181506862203065875037152061796366840n;

const settings: ProcessorSettings = {
  camera: 'front-door',
  collectionId: 'faces',
  faceMatchThreshold: 85.5,
  maxFaces: 3,
  samplingFps: 5,
  snapshots: true,
};

const alice: FakeFace = { person: 'alice', box: { Left: 0.1, Top: 0.3, Width: 0.1, Height: 0.15 } };
const bob: FakeFace = { person: 'bob', box: { Left: 0.6, Top: 0.2, Width: 0.3, Height: 0.45 } };
const stranger: FakeFace = { person: null, box: { Left: 0.35, Top: 0.6, Width: 0.12, Height: 0.18 } };

/** A camera that started streaming at VIDEO_START; `videoMs` of video arrive in real time from then on. */
function world(options: { videoMs: number; faces?: (producerMs: number) => FakeFace[]; clockStart?: number }) {
  const clock = new VirtualClock(options.clockStart ?? VIDEO_START + SKEW);
  const frames = new FakeFrameSource({
    arn: ARN,
    producerStartMs: VIDEO_START,
    fragmentMs: 1000,
    serverSkewMs: SKEW,
    videoFps: 25,
    liveUntil: () => Math.min(clock.ms - SKEW, VIDEO_START + options.videoMs),
    facesAt: options.faces ?? (() => []),
  });
  const analyzer = new FakeAnalyzer();
  const cropper = new FakeCropper();
  const sink = new CollectingSink();
  const snapshots = new CollectingSnapshots();
  return { clock, frames, analyzer, cropper, sink, snapshots };
}

const run = (w: ReturnType<typeof world>, progress = new ScriptedProgress(), extra: Partial<Parameters<typeof analyseVideoSlice>[0]> = {}) =>
  analyseVideoSlice(
    { settings, cursorMs: VIDEO_START + SKEW, deadlineMs: w.clock.ms + 10_000, ...extra },
    { frames: w.frames, analyzer: w.analyzer, cropper: w.cropper, sink: w.sink, snapshots: w.snapshots, progress, clock: w.clock },
  );

const frameTimeMs = (r: { record: { InputInformation: { KinesisVideo: { ProducerTimestamp: number; FrameOffsetInSeconds: number } } } }) =>
  Math.round((r.record.InputInformation.KinesisVideo.ProducerTimestamp + r.record.InputInformation.KinesisVideo.FrameOffsetInSeconds) * 1000);

const matchedOf = (record: (typeof CollectingSink.prototype.records)[number]['record']) =>
  record.FaceSearchResponse.map((f) => f.MatchedFaces.map((m) => ({ FaceId: m.Face.FaceId, ExternalImageId: m.Face.ExternalImageId, Similarity: m.Similarity })));

describe('analyseVideoSlice', () => {
  it('samples the live video at the configured rate and places each frame in its fragment', async () => {
    // Given 3 s of video in 1 s fragments, arriving live
    const w = world({ videoMs: 3000, faces: () => [alice] });

    // When the processor runs for 10 s at 5 frames/s
    const result = await run(w);

    // Then one record per 200 ms of video, each in the fragment holding it, offsets from that fragment's start
    const expected = Array.from({ length: 15 }, (_, k) => {
      const producerMs = VIDEO_START + k * 200;
      const index = Math.floor((k * 200) / 1000);
      return {
        FragmentNumber: (FIRST_FRAGMENT + BigInt(index)).toString(),
        ProducerTimestamp: (VIDEO_START + index * 1000) / 1000,
        ServerTimestamp: (VIDEO_START + index * 1000 + SKEW) / 1000,
        FrameOffsetInSeconds: ((k * 200) % 1000) / 1000,
        frameMs: producerMs,
      };
    });
    expect(w.sink.records.map(({ record }) => ({ ...record.InputInformation.KinesisVideo, frameMs: frameTimeMs({ record }) }))).toEqual(
      expected.map((e) => ({ StreamArn: ARN, ...e })),
    );
    expect(w.sink.records.every((r) => r.partitionKey === `front-door/${r.record.InputInformation.KinesisVideo.FragmentNumber}`)).toBe(true);
    expect(result).toMatchObject({ framesAnalysed: 15, recordsWritten: 15, facesFound: 15, ended: 'deadline' });
    // GetImages is asked at the sampling interval
    expect(new Set(w.frames.getFramesCalls.map((c) => c.intervalMs))).toEqual(new Set([200]));
  });

  it('searches every face in its own crop, since SearchFacesByImage only searches the largest face', async () => {
    // Given frames with a small known face, a large known face and a stranger
    const w = world({ videoMs: 1000, faces: () => [alice, bob, stranger] });

    // When the processor analyses them, searching every face of every frame (no reuse across frames)
    await run(w, undefined, { settings: { ...settings, searchRefreshSeconds: 0 } });

    // Then each face is matched to its own person (the whole frame would have matched bob three times)
    expect(w.sink.records).toHaveLength(5);
    for (const { record } of w.sink.records) {
      expect(record.FaceSearchResponse.map((f) => f.MatchedFaces.map((m) => m.Face.ExternalImageId))).toEqual([['alice'], ['bob'], []]);
      expect(record.FaceSearchResponse.map((f) => f.DetectedFace.BoundingBox)).toEqual([alice, bob, stranger].map(({ box }) => ({ Height: box.Height, Width: box.Width, Left: box.Left, Top: box.Top })));
    }
    // and every search saw one face, with the processor's threshold and MaxFaces
    expect(w.analyzer.searches).toHaveLength(15);
    expect(w.analyzer.searches.every((s) => s.faces.length === 1)).toBe(true);
    expect(w.analyzer.searches[0].options).toEqual({ collectionId: 'faces', faceMatchThreshold: 85.5, maxFaces: 3 });
  });

  it('searches again in a tight crop when the padding let a bigger neighbour in', async () => {
    // Given a small face whose padded crop also holds the centre of a bigger face next to it
    const small: FakeFace = { person: 'alice', box: { Left: 0.4, Top: 0.4, Width: 0.1, Height: 0.1 } };
    const big: FakeFace = { person: 'bob', box: { Left: 0.425, Top: 0.3, Width: 0.2, Height: 0.3 } };
    const w = world({ videoMs: 200, faces: () => [small, big] });

    // When the processor analyses the frame
    await run(w);

    // Then the small face still gets its own match, not its neighbour's
    expect(w.sink.records).toHaveLength(1);
    expect(w.sink.records[0].record.FaceSearchResponse.map((f) => f.MatchedFaces.map((m) => m.Face.ExternalImageId))).toEqual([['alice'], ['bob']]);
  });

  it('writes a record with an empty FaceSearchResponse for frames without faces, without searching', async () => {
    // given
    const w = world({ videoMs: 1000 });

    // when
    await run(w);

    // then
    expect(w.sink.records).toHaveLength(5);
    expect(w.sink.records.every(({ record }) => record.FaceSearchResponse.length === 0 && record.StreamProcessorInformation.Status === 'RUNNING')).toBe(true);
    expect(w.analyzer.searches).toHaveLength(0);
    expect(w.snapshots.keys).toHaveLength(0);
  });

  it('writes nothing more once the processor is stopped', async () => {
    // Given 8 s of video already in the stream and a processor stopped after its second (1 s) window
    const w = world({ videoMs: 8000, faces: () => [alice], clockStart: VIDEO_START + SKEW + 8000 });
    const progress = new ScriptedProgress(2);

    // When the slice runs
    const result = await run(w, progress);

    // Then only the two checkpointed windows (1 s each) were written, and the slice says it was stopped
    expect(result.ended).toBe('stopped');
    expect(w.sink.records).toHaveLength(10);
    expect(Math.max(...w.sink.records.map(frameTimeMs))).toBe(VIDEO_START + 1800);
    expect(progress.checkpoints.map((c) => c.cursorMs)).toEqual([VIDEO_START + SKEW + 1000, VIDEO_START + SKEW + 2000]);
  });

  it('keeps a snapshot of each face under the key the consumer derives from the sighting', async () => {
    // given
    const w = world({ videoMs: 200, faces: () => [alice, stranger] });

    // when
    await run(w);

    // then
    const video = w.sink.records[0].record.InputInformation.KinesisVideo;
    expect(w.snapshots.keys).toEqual(
      [0, 1].map((faceIndex) =>
        snapshotKey({ camera: 'front-door', streamArn: ARN, fragmentNumber: video.FragmentNumber, frameOffsetInSeconds: video.FrameOffsetInSeconds, faceIndex }),
      ),
    );
  });

  it('resumes from a checkpoint without analysing a frame twice', async () => {
    // Given a processor that already analysed the first second
    const w = world({ videoMs: 2000, clockStart: VIDEO_START + SKEW + 2000 });

    // When the next slice starts from that checkpoint
    await run(w, new ScriptedProgress(), { cursorMs: VIDEO_START + SKEW + 1000, lastFrameMs: VIDEO_START + SKEW + 800 });

    // Then it analyses the second second only
    expect(w.sink.records.map(frameTimeMs)).toEqual([1000, 1200, 1400, 1600, 1800].map((ms) => VIDEO_START + ms));
  });

  it('skips ahead when it is more than a minute behind live video', async () => {
    // Given 70 s of video already in the stream when the processor starts at its beginning
    const w = world({ videoMs: 70_000, clockStart: VIDEO_START + SKEW + 70_000 });

    // When the slice runs
    const result = await run(w, new ScriptedProgress(), { deadlineMs: VIDEO_START + SKEW + 70_000 + 500 });

    // Then it jumps to a minute before live, and reports what it skipped
    expect(result.skippedMs).toBe(10_000);
    expect(Math.min(...w.sink.records.map(frameTimeMs))).toBe(VIDEO_START + 10_000);
  });

  it('retries a window whose records could not be written, writing each record once', async () => {
    // given
    const w = world({ videoMs: 1000, faces: () => [alice] });
    w.sink.failures = 1;

    // when
    await run(w);

    // then
    expect(w.sink.records.map(frameTimeMs)).toEqual([0, 200, 400, 600, 800].map((ms) => VIDEO_START + ms));
  });

  it('fails the processor with a clear message when the collection does not exist', async () => {
    const w = world({ videoMs: 1000, faces: () => [alice] });
    w.analyzer.failDetectWith = Object.assign(new Error('The collection id: faces does not exist'), { name: 'ResourceNotFoundException' });

    const outcome = run(w);

    await expect(outcome).rejects.toBeInstanceOf(ProcessorFailure);
    await expect(outcome).rejects.toThrow('does not exist (collection or video stream): The collection id: faces does not exist');
    expect(w.sink.records).toHaveLength(0);
  });

  it('refuses a sampling rate GetImages cannot deliver, and raises a threshold below 80 as AWS does', async () => {
    // given
    const w = world({ videoMs: 200, faces: () => [alice] });
    // When the sampling rate is 10 frames/s, then the slice is refused, saying the range
    await expect(run(w, undefined, { settings: { ...settings, samplingFps: 10 } })).rejects.toThrow(ProcessorSettingsError);
    await expect(run(w, undefined, { settings: { ...settings, samplingFps: 10 } })).rejects.toThrow('samplingFps 10 must be from 0.05 to 5');

    // When the threshold is 50, then faces are searched at 80
    await run(w, undefined, { settings: { ...settings, faceMatchThreshold: 50 } });
    expect(w.analyzer.searches[0].options.faceMatchThreshold).toBe(80);
  });

  it('writes each record as soon as its frame and the earlier ones are analysed, not at the end of the window', async () => {
    // Given a second of video already in the stream (one window of 5 frames) and a slow last frame
    const w = world({ videoMs: 1000, faces: () => [alice], clockStart: VIDEO_START + SKEW + 1000 });
    const detect = w.analyzer.detectFaces.bind(w.analyzer);
    let calls = 0;
    let writtenWhileLastFrameWasAnalysed = -1;
    w.analyzer.detectFaces = async (image) => {
      calls += 1;
      if (calls === 5) {
        // The window's last frame gives the earlier ones time to finish (a bounded number of turns).
        for (let i = 0; i < 100 && w.sink.records.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
        writtenWhileLastFrameWasAnalysed = w.sink.records.length;
      }
      return detect(image);
    };

    // When the processor analyses the window
    await run(w);

    // Then earlier frames' records were already out while the last frame was still being analysed, in frame order
    expect(writtenWhileLastFrameWasAnalysed).toBeGreaterThan(0);
    expect(w.sink.records.map(frameTimeMs)).toEqual([0, 200, 400, 600, 800].map((ms) => VIDEO_START + ms));
  });

  it('detects the next window\'s frames while the previous window\'s searches are still running, and keeps records and checkpoints in order', async () => {
    // Given two seconds of video already in the stream (two windows of 5 frames) and a first search that answers
    // only once the second window's frames were all detected (or after a bounded wait, so a serial processor fails)
    const w = world({ videoMs: 2000, faces: () => [alice], clockStart: VIDEO_START + SKEW + 2000 });
    const search = w.analyzer.searchFacesByImage.bind(w.analyzer);
    let held = false;
    let detectedWhenReleased = 0;
    w.analyzer.searchFacesByImage = async (image, options) => {
      if (w.analyzer.searches.length === 0 && !held) {
        held = true;
        for (let i = 0; i < 500 && w.analyzer.detectCalls.length < 10; i++) await new Promise((resolve) => setImmediate(resolve));
        detectedWhenReleased = w.analyzer.detectCalls.length;
        held = false;
      }
      return search(image, options);
    };
    const progress = new ScriptedProgress();

    // When the processor runs
    await run(w, progress);

    // Then all ten frames, the second window's too, were detected while the first window's search was held
    expect(detectedWhenReleased).toBe(10);
    // and every frame has one record, in frame order, with checkpoints moving forward only
    expect(w.sink.records.map(frameTimeMs)).toEqual([0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800].map((ms) => VIDEO_START + ms));
    const cursors = progress.checkpoints.map((c) => c.cursorMs);
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
    expect(cursors[cursors.length - 1]).toBeGreaterThanOrEqual(VIDEO_START + SKEW + 2000);
  });

  it('when a write fails while the next window is already in flight, analyses again from the last checkpoint: every record once, in order', async () => {
    // Given two seconds of video already in the stream, and a sink that refuses its third write
    const w = world({ videoMs: 2000, faces: () => [alice, stranger], clockStart: VIDEO_START + SKEW + 2000 });
    const put = w.sink.put.bind(w.sink);
    let calls = 0;
    w.sink.put = async (records) => {
      calls += 1;
      if (calls === 3) throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
      return put(records);
    };
    const progress = new ScriptedProgress();

    // When the processor runs
    const result = await run(w, progress);

    // Then each frame has exactly one record, in frame order, and the result counts them once
    expect(w.sink.records.map(frameTimeMs)).toEqual([0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800].map((ms) => VIDEO_START + ms));
    expect(result.recordsWritten).toBe(10);
    const cursors = progress.checkpoints.map((c) => c.cursorMs);
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
  });

  describe('reusing a tracked face\'s search (searchRefreshSeconds)', () => {

    it('searches each face once per visit by default, and writes the real result of that search in every record', async () => {
      // Given 3 s of video of two known people and a stranger standing still
      const w = world({ videoMs: 3000, faces: () => [alice, bob, stranger] });

      // When the processor runs with the default refresh (30 s)
      const result = await run(w);

      // Then each face is searched once, in the first frame (3 searches), not in all 15 frames
      expect(w.sink.records).toHaveLength(15);
      expect(w.analyzer.searches).toHaveLength(3);
      expect(result).toMatchObject({ facesFound: 45, facesSearched: 3, searchesReused: 42 });
      // and every record carries the matches of those searches: same faces, same similarities
      const searched = w.analyzer.searches.slice(0, 3).map((s) => s.faces[0].person);
      expect(searched).toEqual(['alice', 'bob', null]);
      for (const { record } of w.sink.records) {
        expect(matchedOf(record)).toEqual([
          [{ FaceId: 'face-alice', ExternalImageId: 'alice', Similarity: 99.1 }],
          [{ FaceId: 'face-bob', ExternalImageId: 'bob', Similarity: 99.1 }],
          [],
        ]);
      }
    });

    it('searches a face that stays in view again every searchRefreshSeconds', async () => {
      // Given 3 s of video of the same three people, and a refresh of 1 s
      const w = world({ videoMs: 3000, faces: () => [alice, bob, stranger] });

      const result = await run(w, undefined, { settings: { ...settings, searchRefreshSeconds: 1 } });

      // Then each face is searched at 0 s, 1 s and 2 s of video only (3 faces × 3)
      expect(w.analyzer.searches).toHaveLength(9);
      expect(result).toMatchObject({ facesFound: 45, facesSearched: 9, searchesReused: 36 });
    });

    it('searches a face that comes into view at once, while the faces already tracked reuse theirs', async () => {
      // Given alice alone, then bob joining her 400 ms later
      const w = world({ videoMs: 1000, faces: (ms) => (ms - VIDEO_START < 400 ? [alice] : [alice, bob]) });

      await run(w);

      // Then alice is searched once, bob once in the first frame he is in
      expect(w.analyzer.searches.map((s) => s.faces[0].person)).toEqual(['alice', 'bob']);
      const first = w.sink.records.findIndex(({ record }) => record.FaceSearchResponse.length === 2);
      expect(frameTimeMs(w.sink.records[first])).toBe(VIDEO_START + 400);
      expect(matchedOf(w.sink.records[first].record).map((m) => m.map((x) => x.ExternalImageId))).toEqual([['alice'], ['bob']]);
    });

    it('searches again when a face is somewhere else than in the previous frame (another person)', async () => {
      // Given alice on the left, then from 400 ms bob on the right instead (boxes do not overlap)
      const w = world({ videoMs: 1000, faces: (ms) => (ms - VIDEO_START < 400 ? [alice] : [bob]) });

      await run(w);

      // Then bob is searched, not given alice's match
      expect(w.analyzer.searches.map((s) => s.faces[0].person)).toEqual(['alice', 'bob']);
      expect(w.sink.records.map(({ record }) => record.FaceSearchResponse[0].MatchedFaces[0].Face.ExternalImageId)).toEqual(['alice', 'alice', 'bob', 'bob', 'bob']);
    });

    it('searches again when another person takes the place of a tracked face (same box, another face)', async () => {
      // Given alice, then from 400 ms bob standing exactly where she stood
      const bobInHerPlace: FakeFace = { person: 'bob', box: alice.box };
      const w = world({ videoMs: 1000, faces: (ms) => (ms - VIDEO_START < 400 ? [alice] : [bobInHerPlace]) });

      await run(w);

      // Then bob is searched and recognised as himself from his first frame
      expect(w.analyzer.searches.map((s) => s.faces[0].person)).toEqual(['alice', 'bob']);
      expect(w.sink.records.map(({ record }) => record.FaceSearchResponse[0].MatchedFaces[0].Face.ExternalImageId)).toEqual(['alice', 'alice', 'bob', 'bob', 'bob']);
    });

    it('keeps a snapshot of every face of about one frame a second, and of every face it searches', async () => {
      // Given 3 s of two people in view, and bob joining at 2.4 s (searched in a frame between the kept ones)
      const w = world({ videoMs: 3000, faces: (ms) => (ms - VIDEO_START < 2400 ? [alice, stranger] : [alice, stranger, bob]) });

      await run(w);

      // Then the frames at 0, 1 and 2 s keep both faces (6), and bob's first frame keeps his searched face (1)
      expect(w.analyzer.searches.map((s) => s.faces[0]?.person)).toEqual(['alice', null, 'bob']);
      expect(w.snapshots.keys).toHaveLength(7);
      expect(new Set(w.snapshots.keys).size).toBe(7);
    });

    it('searches every face of every frame with searchRefreshSeconds 0, and refuses a negative reuse', async () => {
      // given
      const w = world({ videoMs: 1000, faces: () => [alice, stranger] });

      // when
      const result = await run(w, undefined, { settings: { ...settings, searchRefreshSeconds: 0 } });

      // then
      expect(w.analyzer.searches).toHaveLength(10);
      expect(result).toMatchObject({ facesSearched: 10, searchesReused: 0 });
      await expect(run(w, undefined, { settings: { ...settings, searchRefreshSeconds: -1 } })).rejects.toThrow('searchRefreshSeconds -1 must be from 0 (search every frame) to 60');
    });
  });

  describe('the motion gate and faces too small to identify', () => {
    const gated = (options: Parameters<typeof world>[0], light?: (frame: { faces: FakeFace[] }) => number) => {
      const w = world(options);
      return { ...w, cropper: new FakeThumbnailCropper(light) };
    };

    it('given nobody moving, when the processor runs, then the detector runs once per maxGatedMs and every frame still has its record with the faces', async () => {
      // Given 3 s of one person standing still
      const w = gated({ videoMs: 3000, faces: () => [alice] });

      const result = await run(w);

      // Then one detection (the first frame), 15 records each naming alice, one search
      expect(w.cropper.thumbnails).toBe(15);
      expect(w.analyzer.detectCalls).toHaveLength(1);
      expect(w.sink.records).toHaveLength(15);
      expect(result).toMatchObject({ facesFound: 15, facesSearched: 1 });
      for (const { record } of w.sink.records) expect(matchedOf(record)).toEqual([[{ FaceId: 'face-alice', ExternalImageId: 'alice', Similarity: 99.1 }]]);
    });

    it('given the light slowly changing over an empty scene, when the processor runs, then the gate still skips the detector', async () => {
      const w = gated({ videoMs: 3000, faces: () => [] }, () => Math.round(w.clock.ms / 200) % 40);

      await run(w);

      expect(w.analyzer.detectCalls.length).toBeLessThanOrEqual(1);
      expect(w.sink.records).toHaveLength(15);
    });

    it('given a person walking in, when the processor runs, then the detector runs on the change and the person is searched at once', async () => {
      // Given an empty doorway, then bob from 1 s on
      const w = gated({ videoMs: 2000, faces: (ms) => (ms - VIDEO_START < 1000 ? [] : [bob]) });

      await run(w);

      expect(w.analyzer.detectCalls).toEqual([0, 1]);
      const first = w.sink.records.findIndex(({ record }) => record.FaceSearchResponse.length === 1);
      expect(frameTimeMs(w.sink.records[first])).toBe(VIDEO_START + 1000);
      expect(w.analyzer.searches.map((s) => s.faces[0].person)).toEqual(['bob']);
    });

    it('given a face narrower than minFacePixels, when the processor runs, then it is recorded unmatched and never searched', async () => {
      // Given alice at 0.1 of a 640 px frame (64 px) and a far stranger at 0.05 (32 px)
      const far: FakeFace = { person: 'carol', box: { Left: 0.8, Top: 0.1, Width: 0.05, Height: 0.07 } };
      const w = gated({ videoMs: 1000, faces: () => [alice, far] });

      await run(w);

      expect(w.analyzer.searches.map((s) => s.faces.map((f) => f.person))).toEqual([['alice']]);
      for (const { record } of w.sink.records) expect(matchedOf(record).map((m) => m.length)).toEqual([1, 0]);
      // with a lower bound, the far face is searched too
      const near = gated({ videoMs: 1000, faces: () => [alice, far] });
      await run(near, undefined, { settings: { ...settings, minFacePixels: 30 } });
      expect(near.analyzer.searches.map((s) => s.faces[0].person).sort()).toEqual(['alice', 'carol']);
    });

    it('measures change as the largest cell difference once the mean brightness change is taken out', () => {
      const flat = (v: number) => ({ width: 640, height: 480, grey: new Uint8Array(THUMBNAIL_WIDTH * THUMBNAIL_HEIGHT).fill(v) });
      expect(thumbnailChange(flat(60), flat(90))).toBe(0);
      const spot = flat(60);
      spot.grey[100] = 120;
      expect(thumbnailChange(spot, flat(60))).toBeCloseTo(60 - 60 / (THUMBNAIL_WIDTH * THUMBNAIL_HEIGHT), 5);
      expect(thumbnailChange(flat(60), { ...flat(60), width: 320 })).toBe(Infinity);
    });
  });
});
