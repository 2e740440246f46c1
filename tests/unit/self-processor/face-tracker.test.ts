import {
  DEFAULT_TRACKER_SETTINGS,
  advanceTracks,
  appearanceDistance,
  signatureOf,
  decideFaces,
  emptyTrackerState,
  type TrackerSettings,
  type TrackerState,
} from '../../../shared/domain/face-tracker';
import type { BoundingBox } from '../../../shared/domain/model';

const settings: TrackerSettings = { ...DEFAULT_TRACKER_SETTINGS, reuseMs: 1000, maxGapMs: 1000, maxReuses: 10, minIouWithSearchedBox: 0.3 };
const box = (Left: number, Top = 0.3, Width = 0.2, Height = 0.3): BoundingBox => ({ Left, Top, Width, Height });
const shift = (b: BoundingBox, dx: number): BoundingBox => ({ ...b, Left: b.Left + dx });

/** Runs frames through the tracker, "searching" with `search` (returns the result), and collects the decisions. */
function track(frames: { ms: number; boxes: BoundingBox[] }[], options: { settings?: TrackerSettings; search?: (box: BoundingBox, ms: number) => string } = {}) {
  let state: TrackerState<string> = emptyTrackerState();
  const search = options.search ?? ((b: BoundingBox, ms: number) => `searched@${ms}:${b.Left.toFixed(2)}`);
  return frames.map(({ ms, boxes }) => {
    const decisions = decideFaces(state, boxes, ms, options.settings ?? settings);
    const searched = boxes.map((b, i) => (decisions[i].action === 'search' ? search(b, ms) : undefined));
    state = advanceTracks(state, boxes, ms, decisions, searched);
    return { actions: decisions.map((d) => d.action), results: state.tracks.map((t) => t.result), ids: state.tracks.map((t) => t.id) };
  });
}

describe('face tracker', () => {
  it('searches a new face, then reuses that search for the same face until the result is reuseMs old', () => {
    // Given one face drifting slowly across 6 frames 200 ms apart
    const frames = [0, 200, 400, 600, 800, 1000].map((ms, k) => ({ ms, boxes: [shift(box(0.2), k * 0.01)] }));

    const out = track(frames);

    // Then it is searched at 0 ms, reused for 200–800 ms, searched again at 1000 ms (1 s old)
    expect(out.map((f) => f.actions[0])).toEqual(['search', 'reuse', 'reuse', 'reuse', 'reuse', 'search']);
    expect(out.map((f) => f.results[0])).toEqual(['searched@0:0.20', 'searched@0:0.20', 'searched@0:0.20', 'searched@0:0.20', 'searched@0:0.20', 'searched@1000:0.25']);
    // and it stays one track
    expect(new Set(out.map((f) => f.ids[0])).size).toBe(1);
  });

  it('pairs each face with its own track when several are in view, whatever the order DetectFaces gives', () => {
    const a = box(0.05);
    const b = box(0.6);
    const out = track([
      { ms: 0, boxes: [a, b] },
      { ms: 200, boxes: [shift(b, 0.02), shift(a, 0.02)] },
    ]);
    expect(out[1].actions).toEqual(['reuse', 'reuse']);
    expect(out[1].results).toEqual(['searched@0:0.60', 'searched@0:0.05']);
  });

  it('searches a face whose box overlaps no face of the previous frame enough (IoU < 0.5)', () => {
    // Given a face that jumps by 60 % of its width between frames
    const out = track([
      { ms: 0, boxes: [box(0.2)] },
      { ms: 200, boxes: [box(0.32)] },
    ]);
    expect(out[1].actions).toEqual(['search']);
  });

  it('searches a face again when its track ended (not seen for longer than maxGapMs) or after maxReuses frames', () => {
    const gap = track([
      { ms: 0, boxes: [box(0.2)] },
      { ms: 100, boxes: [] },
      { ms: 200, boxes: [box(0.2)] },
    ]);
    // the empty frame in between ended the track
    expect(gap[2].actions).toEqual(['search']);

    const often = track(
      [0, 50, 100, 150, 200].map((ms) => ({ ms, boxes: [box(0.2)] })),
      { settings: { ...settings, maxReuses: 2 } },
    );
    expect(often.map((f) => f.actions[0])).toEqual(['search', 'reuse', 'reuse', 'search', 'reuse']);
  });

  it('searches again when the face drifted away from where it was searched, even frame by frame', () => {
    // Given a 0.2-wide face moving 0.06 per frame: each step overlaps the previous one (IoU 0.14/0.26 ≈ 0.54),
    // but two steps from the searched box the overlap is 0.08/0.32 = 0.25, under minIouWithSearchedBox (0.3)
    const frames = [0, 100, 200, 300].map((ms, k) => ({ ms, boxes: [shift(box(0.1), k * 0.06)] }));
    const out = track(frames);
    expect(out.map((f) => f.actions[0])).toEqual(['search', 'reuse', 'search', 'reuse']);
  });

  it('searches again when the face looks different from the previous frame (another person in the same place)', () => {
    const looks = (level: number) => Array.from({ length: 16 }, (_, i) => (i % 2 ? level : -level));
    let state = emptyTrackerState<string>();
    const frame = (ms: number, signature: number[]) => {
      const decisions = decideFaces(state, [box(0.2)], ms, settings, [signature]);
      state = advanceTracks(state, [box(0.2)], ms, decisions, decisions.map((d) => (d.action === 'search' ? `searched@${ms}` : undefined)), [signature]);
      return decisions[0];
    };
    // Same place; the second frame looks nearly the same (distance 0.1), the third entirely different (2)
    expect(frame(0, looks(1)).action).toBe('search');
    expect(frame(200, looks(0.9)).action).toBe('reuse');
    expect(frame(400, looks(-1))).toMatchObject({ action: 'search', reason: 'changed' });
    expect(appearanceDistance(looks(1), looks(0.9))).toBeCloseTo(0.1);
    expect(appearanceDistance(looks(1), [])).toBe(Infinity);
  });

  it('normalises signatures, so that a brighter frame of the same face looks the same', () => {
    const grey = [10, 20, 30, 40, 50, 60];
    expect(appearanceDistance(signatureOf(grey), signatureOf(grey.map((g) => 2 * g + 40)))).toBeCloseTo(0);
    expect(appearanceDistance(signatureOf(grey), signatureOf([...grey].reverse()))).toBeGreaterThan(DEFAULT_TRACKER_SETTINGS.maxAppearanceChange);
  });

  it('searches when the pairing is ambiguous: two faces overlapping one tracked face', () => {
    const out = track([
      { ms: 0, boxes: [box(0.3, 0.3, 0.3, 0.3)] },
      { ms: 200, boxes: [box(0.3, 0.3, 0.28, 0.3), box(0.32, 0.3, 0.28, 0.3)] },
    ]);
    expect(out[1].actions).toEqual(['search', 'search']);
  });

  it('never reuses with reuseMs 0, nor when frames go back in time', () => {
    const off = track(
      [0, 200].map((ms) => ({ ms, boxes: [box(0.2)] })),
      { settings: { ...settings, reuseMs: 0 } },
    );
    expect(off.map((f) => f.actions[0])).toEqual(['search', 'search']);

    const back = track([
      { ms: 400, boxes: [box(0.2)] },
      { ms: 200, boxes: [box(0.2)] },
    ]);
    expect(back.map((f) => f.actions[0])).toEqual(['search', 'search']);
  });

  it('refuses to advance a face that was to be searched without its result', () => {
    const state = emptyTrackerState<string>();
    const decisions = decideFaces(state, [box(0.2)], 0, settings);
    expect(() => advanceTracks(state, [box(0.2)], 0, decisions, [undefined])).toThrow('face 0 was to be searched but has no search result');
  });

  it('with the defaults, follows a face walking across the frame with one search, and searches again for a clearly closer view', () => {
    // Given a face walking from left to right, 200 ms apart, then walking up to the camera (growing box)
    const walking = Array.from({ length: 12 }, (_, k) => ({ ms: k * 200, boxes: [box(0.05 + k * 0.05, 0.3, 0.1, 0.15)] }));
    const closer = [1.3, 1.6, 1.9].map((f, k) => ({ ms: 2400 + k * 200, boxes: [box(0.6, 0.3 - (f - 1) * 0.05, 0.1 * f, 0.15 * f)] }));

    const out = track([...walking, ...closer], { settings: DEFAULT_TRACKER_SETTINGS });

    // Then one search for the whole walk (boxes overlap frame to frame), and one more when its area is 1.8× the searched one
    expect(out.map((f) => f.actions[0])).toEqual([...['search'], ...Array(11).fill('reuse'), 'reuse', 'search', 'reuse']);
    expect(new Set(out.map((f) => f.ids[0])).size).toBe(1);
  });
});

