/**
 * Face tracking across the consecutive frames a processor analyses, so that each person is searched once per
 * visit rather than once per frame: a face whose box overlaps a face of the previous analysed frame is the
 * same face (the same track), and that track's last SearchFacesByImage result is reused for it until the
 * result is `reuseMs` old. Pure: the caller (shared/use-cases/analyse-video-slice.ts) runs the searches and
 * keeps the tracks between frames. Times are the frames' own timestamps (video time), never the wall clock.
 */
import { intersectionOverUnion } from './frame-analysis';
import type { BoundingBox } from './model';

export interface TrackerSettings {
  /** How long a search result is reused for its track (ms of video); 0 turns reuse off (every face searched). */
  reuseMs: number;
  /** A face continues a track of the previous analysed frame when their boxes overlap at least this much... */
  minIou: number;
  /**
   * ...or when its centre moved less than this many face widths and its size changed less than 2×: a person
   * walking past at 5 frames/s moves most of a face width between frames, so boxes alone would not overlap.
   * 0 pairs by overlap only.
   */
  maxCentreShift: number;
  /** A track not seen for longer than this (ms of video) has ended: its face is new if it comes back. */
  maxGapMs: number;
  /** A track is searched again after this many reuses in a row, however young its result. */
  maxReuses: number;
  /**
   * Searched again when its box has moved away from where it was searched (IoU with that box below this);
   * 0 (the default) never: a face followed frame to frame is the same face however far it walks, and the
   * appearance and ambiguity checks catch a swap.
   */
  minIouWithSearchedBox: number;
  /**
   * Searched again for a clearly better view: its box is this many times the area of the box it was searched
   * with (a person walking up to the camera); the search is then made on more pixels. Infinity turns it off.
   */
  betterViewAreaRatio: number;
  /**
   * Searched again when the face looks different from the previous frame's (appearanceDistance of their
   * signatures above this): another person in the same place, e.g. one replacing another in a doorway.
   * Consecutive frames of one face stay well under it; two people's faces are over it (measured on the demo
   * cast with 12×12 grey thumbnails: same face shifted 3–10 % / zoomed 4–8 %: 0.2–0.7, different people ≥ 0.75).
   */
  maxAppearanceChange: number;
}

/** Search once per visit: again on doubt (a new face, an ambiguous pairing, another look, a much larger view) or every 30 s. */
export const DEFAULT_TRACKER_SETTINGS: TrackerSettings = {
  reuseMs: 30_000,
  minIou: 0.5,
  maxCentreShift: 1.2,
  maxGapMs: 1_000,
  maxReuses: Number.POSITIVE_INFINITY,
  minIouWithSearchedBox: 0,
  betterViewAreaRatio: 1.8,
  maxAppearanceChange: 0.6,
};

/** How far a box's centre is from another's, in widths of the wider of the two. */
function centreShift(a: BoundingBox, b: BoundingBox): number {
  const dx = a.Left + a.Width / 2 - (b.Left + b.Width / 2);
  const dy = a.Top + a.Height / 2 - (b.Top + b.Height / 2);
  return Math.hypot(dx, dy) / Math.max(a.Width, b.Width, 1e-9);
}

/** A face's appearance: a small grey thumbnail of its box, normalised (zero mean, unit variance). */
export type Signature = readonly number[];

/** Mean absolute difference of two signatures (0 = identical); Infinity when they cannot be compared. */
export function appearanceDistance(a: Signature, b: Signature): number {
  if (a.length === 0 || a.length !== b.length) return Infinity;
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

/** The signature of grey pixel values: normalised so that lighting changes matter less. */
export function signatureOf(grey: ArrayLike<number>): Signature {
  const n = grey.length;
  if (!n) return [];
  let mean = 0;
  for (let i = 0; i < n; i++) mean += grey[i];
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (grey[i] - mean) ** 2;
  const sd = Math.sqrt(variance / n) || 1;
  return Array.from({ length: n }, (_, i) => (grey[i] - mean) / sd);
}

export interface Track<R> {
  id: number;
  /** BoundingBox in the last frame the face was seen (ratios of the frame). */
  box: BoundingBox;
  lastSeenMs: number;
  /** BoundingBox and frame time of the search whose result this track carries. */
  searchedBox: BoundingBox;
  searchedAtMs: number;
  /** Frames that reused the result since that search. */
  reuses: number;
  /** The face's appearance in the last frame it was seen, when known. */
  signature?: Signature;
  result: R;
}

export interface TrackerState<R> {
  tracks: Track<R>[];
  /** The previous analysed frame's time (tracks only continue from it). */
  lastFrameMs?: number;
  nextId: number;
}

export const emptyTrackerState = <R>(): TrackerState<R> => ({ tracks: [], nextId: 1 });

/** What to do for one face of a frame. */
export type FaceDecision<R> =
  | { action: 'reuse'; track: Track<R> }
  /** `track`: the track this face continues (searched again), if any. */
  | { action: 'search'; track?: Track<R>; reason: 'new-face' | 'expired' | 'moved' | 'better-view' | 'changed' | 'ambiguous' | 'reuse-off' };

/**
 * One decision per face of the frame at `frameMs` (same order as `boxes`). Faces are paired with the tracks
 * of the previous analysed frame one-to-one, best overlap first. A face is searched when it starts a new
 * track, when its track's result is too old or was reused too often, when it moved away from where it was
 * searched, when it looks different from the previous frame (`signatures`, when given for both frames), or when
 * the pairing is ambiguous (two faces overlapping one track well, or one face two tracks: people crossing could
 * swap identities).
 */
export function decideFaces<R>(
  state: TrackerState<R>,
  boxes: readonly BoundingBox[],
  frameMs: number,
  settings: TrackerSettings,
  signatures: readonly (Signature | undefined)[] = [],
): FaceDecision<R>[] {
  if (!(settings.reuseMs > 0)) return boxes.map(() => ({ action: 'search', reason: 'reuse-off' }));
  const continuing =
    state.lastFrameMs !== undefined && frameMs > state.lastFrameMs && frameMs - state.lastFrameMs <= settings.maxGapMs
      ? state.tracks.filter((t) => t.lastSeenMs === state.lastFrameMs)
      : [];

  const pairs: { face: number; track: number; iou: number }[] = [];
  boxes.forEach((box, face) =>
    continuing.forEach((track, t) => {
      const iou = intersectionOverUnion(box, track.box);
      if (iou >= settings.minIou) pairs.push({ face, track: t, iou });
      else {
        // Nearby and about the same size: the same face, moved; ranked below every overlapping pair.
        const shift = centreShift(box, track.box);
        const sizeRatio = (box.Width * box.Height) / (track.box.Width * track.box.Height);
        if (shift < settings.maxCentreShift && sizeRatio > 0.5 && sizeRatio < 2) pairs.push({ face, track: t, iou: (settings.minIou * (1 - shift / settings.maxCentreShift)) / 2 });
      }
    }),
  );
  const candidatesOfFace = new Map<number, number>();
  const candidatesOfTrack = new Map<number, number>();
  for (const p of pairs) {
    candidatesOfFace.set(p.face, (candidatesOfFace.get(p.face) ?? 0) + 1);
    candidatesOfTrack.set(p.track, (candidatesOfTrack.get(p.track) ?? 0) + 1);
  }
  pairs.sort((a, b) => b.iou - a.iou);
  const trackOfFace = new Map<number, number>();
  const takenTracks = new Set<number>();
  for (const p of pairs) {
    if (trackOfFace.has(p.face) || takenTracks.has(p.track)) continue;
    trackOfFace.set(p.face, p.track);
    takenTracks.add(p.track);
  }

  return boxes.map((box, face): FaceDecision<R> => {
    const t = trackOfFace.get(face);
    if (t === undefined) return { action: 'search', reason: 'new-face' };
    const track = continuing[t];
    if ((candidatesOfFace.get(face) ?? 0) > 1 || (candidatesOfTrack.get(t) ?? 0) > 1) return { action: 'search', track, reason: 'ambiguous' };
    if (frameMs - track.searchedAtMs >= settings.reuseMs || track.reuses >= settings.maxReuses) return { action: 'search', track, reason: 'expired' };
    if (intersectionOverUnion(box, track.searchedBox) < settings.minIouWithSearchedBox) return { action: 'search', track, reason: 'moved' };
    if (box.Width * box.Height >= settings.betterViewAreaRatio * track.searchedBox.Width * track.searchedBox.Height) return { action: 'search', track, reason: 'better-view' };
    const signature = signatures[face];
    if (signature && track.signature && appearanceDistance(signature, track.signature) > settings.maxAppearanceChange)
      return { action: 'search', track, reason: 'changed' };
    return { action: 'reuse', track };
  });
}

/**
 * The tracks after the frame at `frameMs`: one per face, carrying the new search result (`searched[i]`,
 * for the faces decided 'search') or the reused one. Tracks without a face in this frame end.
 */
export function advanceTracks<R>(
  state: TrackerState<R>,
  boxes: readonly BoundingBox[],
  frameMs: number,
  decisions: readonly FaceDecision<R>[],
  searched: readonly (R | undefined)[],
  signatures: readonly (Signature | undefined)[] = [],
): TrackerState<R> {
  let nextId = state.nextId;
  const tracks = boxes.map((box, i): Track<R> => {
    const decision = decisions[i];
    const signature = signatures[i];
    if (decision.action === 'reuse') return { ...decision.track, box, lastSeenMs: frameMs, reuses: decision.track.reuses + 1, signature };
    const result = searched[i];
    if (result === undefined) throw new Error(`face ${i} was to be searched but has no search result`);
    return { id: decision.track?.id ?? nextId++, box, lastSeenMs: frameMs, searchedBox: box, searchedAtMs: frameMs, reuses: 0, result, signature };
  });
  return { tracks, lastFrameMs: frameMs, nextId };
}
