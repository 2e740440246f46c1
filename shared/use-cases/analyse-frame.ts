import {
  buildFaceSearchRecord,
  frameOffsetSeconds,
  locateFrame,
  paddedCropRegion,
  samplingIntervalMs,
  searchedTheSameFace,
  type AnalysedFace,
  type DetectedFaceInput,
  type FaceMatchInput,
  type FrameLocation,
  type VideoFragment,
} from '../domain/frame-analysis';
import type { BoundingBox } from '../domain/model';
import {
  advanceTracks,
  decideFaces,
  type FaceDecision,
  type Signature,
  type TrackerSettings,
  type TrackerState,
} from '../domain/face-tracker';
import { sightingId } from '../domain/sighting';
import { keepsSnapshot, snapshotKey } from '../domain/snapshot-key';
import { DEFAULT_VISIT_GAP_SECONDS, newVisitorId, type RecordVisitor } from '../domain/visitor';
import type { FaceCrop, FaceSearchResult, FrameThumbnail, OutgoingRecord, SampledFrame, SliceDependencies } from './processor-ports';
import { DEFAULT_MIN_FACE_PIXELS, type ProcessorSettings, type SliceTuning } from './processor-settings';
import { FRAME_ERRORS } from './processor-errors';

/**
 * One frame of the self processor: the motion gate, finding its faces, deciding which to search (the tracker),
 * searching them and building its record and snapshots. The window pipeline (analyse-video-slice.ts) feeds it.
 */

export interface AnalysedFrame {
  /** The frame's time on the source's clock. */
  frameMs: number;
  outgoing: OutgoingRecord;
  faces: number;
  /** Faces searched with SearchFacesByImage / faces that reused their track's result. */
  searched: number;
  reused: number;
  /** Unknown faces looked up in the visitors collection, and of them the new visitors indexed there. */
  visitorLookups: number;
  visitorsIndexed: number;
}

/** What a track's search found: the face's matches and, when it matched nobody, the recurring visitor it is. */
export interface FaceIdentity {
  matches: FaceMatchInput[];
  visitor?: RecordVisitor;
}

/** The face tracker of a slice: its settings and the tracks of the last analysed frame. */
export interface Tracking {
  settings: TrackerSettings;
  /** A track's result is its search in flight: the next frame can reuse it before it has answered. */
  state: TrackerState<Promise<FaceIdentity>>;
  /** Recurring visitors: the last frame (source clock) each visitor was in view, for the visit gap. */
  visitorsSeen: Map<string, number>;
  /** The motion gate: the last frame the detector ran on (its thumbnail and faces), and the gate steps in order. */
  gate: { key?: { frameMs: number; thumbnail: FrameThumbnail; detection: Promise<Detection | undefined> }; chain: Promise<void> };
}

/** What the motion gate decided for a frame, and the frame's pixel width when known. */
export interface GateOutcome {
  width?: number;
  /** Nothing moved since this detection: reuse its faces. */
  reuse?: Promise<Detection | undefined>;
  /** The detector runs on this frame: resolve with its detection (the next unchanged frames reuse it). */
  key?: (detection: Detection | undefined) => void;
}

/**
 * The largest difference between two thumbnails' cells after removing the change of mean brightness (slow light
 * changes and exposure shifts move every cell alike), in grey levels; sensor noise stays a few levels.
 */
export function thumbnailChange(a: FrameThumbnail, b: FrameThumbnail): number {
  if (a.grey.length !== b.grey.length || a.width !== b.width || a.height !== b.height) return Infinity;
  let meanA = 0;
  let meanB = 0;
  for (let i = 0; i < a.grey.length; i++) {
    meanA += a.grey[i];
    meanB += b.grey[i];
  }
  const shift = (meanA - meanB) / a.grey.length;
  let largest = 0;
  for (let i = 0; i < a.grey.length; i++) largest = Math.max(largest, Math.abs(a.grey[i] - b.grey[i] - shift));
  return largest;
}

/** The gate's decision for one frame; run for the frames in time order, one at a time. */
export async function gateFrame(frame: UsableFrame, tuning: SliceTuning, tracking: Tracking, deps: SliceDependencies): Promise<GateOutcome> {
  if (!deps.cropper.thumbnail) return {};
  let thumbnail: FrameThumbnail;
  try {
    thumbnail = await deps.cropper.thumbnail(frame.image);
  } catch {
    return {}; // an undecodable frame: the detector reports it
  }
  const key = tracking.gate.key;
  if (
    tuning.motionThreshold > 0 &&
    key &&
    frame.timestampMs > key.frameMs &&
    frame.timestampMs - key.frameMs <= tuning.maxGatedMs &&
    thumbnailChange(thumbnail, key.thumbnail) < tuning.motionThreshold
  ) {
    return { width: thumbnail.width, reuse: key.detection };
  }
  let resolveKey!: (detection: Detection | undefined) => void;
  const detection = new Promise<Detection | undefined>((resolve) => (resolveKey = resolve));
  tracking.gate.key = { frameMs: frame.timestampMs, thumbnail, detection };
  return { width: thumbnail.width, key: resolveKey };
}

export type UsableFrame = SampledFrame & { image: Uint8Array };

export interface Detection {
  location: FrameLocation;
  detected: DetectedFaceInput[];
  /** Per detected face with a usable box, when faces are tracked and the cropper can tell. */
  signatures?: (Signature | undefined)[];
  /** The frame's width in pixels, when the motion gate read it. */
  frameWidth?: number;
  /** The faces are those of an earlier frame: nothing moved since (the motion gate). */
  reused?: boolean;
}

/** An unchanged frame: the faces of the last detected frame, at this frame's own place in the stream. */
export async function reuseDetection(
  frame: UsableFrame,
  key: Detection | undefined,
  fragments: readonly VideoFragment[],
  streamArn: string,
  deps: SliceDependencies,
): Promise<Detection | undefined> {
  const location = locateFrame(streamArn, fragments, frame.timestampMs, deps.frames.domain);
  if (!location) return undefined;
  return { location, detected: key?.detected ?? [], signatures: key?.signatures, reused: true };
}

/** Where the frame sits and its faces; undefined when the frame cannot be analysed (logged). */
export async function detectFrame(
  frame: UsableFrame,
  fragments: readonly VideoFragment[],
  streamArn: string,
  settings: ProcessorSettings,
  deps: SliceDependencies,
  tracked: boolean,
): Promise<Detection | undefined> {
  const location = locateFrame(streamArn, fragments, frame.timestampMs, deps.frames.domain);
  if (!location) {
    deps.logger?.warn('No listed fragment holds this frame: skipped', { camera: settings.camera, frameMs: frame.timestampMs });
    return undefined;
  }
  let detected: DetectedFaceInput[];
  try {
    detected = await deps.analyzer.detectFaces(frame.image);
  } catch (error) {
    if (FRAME_ERRORS.has((error as Error).name)) {
      deps.logger?.warn('Frame cannot be analysed: skipped', { camera: settings.camera, frameMs: frame.timestampMs, error: (error as Error).message });
      return undefined;
    }
    throw error;
  }
  const signature = tracked && deps.cropper.signature?.bind(deps.cropper);
  if (!signature) return { location, detected };
  const signatures = await Promise.all(detected.map((face) => (validBox(face.BoundingBox) ? signature(frame.image, face.BoundingBox) : undefined)));
  return { location, detected, signatures };
}

export const validBox = (box: DetectedFaceInput['BoundingBox']): box is BoundingBox =>
  box !== undefined && [box.Left, box.Top, box.Width, box.Height].every(Number.isFinite);

/**
 * Searches the frame's faces (or reuses their tracks' results), then builds its record and keeps snapshots.
 * `tracked` is called as soon as the tracks are updated: the next frame may then decide its own searches.
 */
export async function analyseFrame(
  frame: UsableFrame,
  { location, detected, signatures: allSignatures, frameWidth }: Detection,
  settings: ProcessorSettings,
  tuning: SliceTuning,
  tracking: Tracking,
  deps: SliceDependencies,
  tracked: () => void,
): Promise<AnalysedFrame> {
  // Faces without a usable box cannot be searched or tracked, nor can faces too small or too blurred to identify:
  // they are reported unmatched.
  const identifiable = (face: DetectedFaceInput) =>
    validBox(face.BoundingBox) &&
    !(frameWidth !== undefined && face.BoundingBox.Width * frameWidth < (settings.minFacePixels ?? DEFAULT_MIN_FACE_PIXELS)) &&
    !((face.Quality?.Sharpness ?? 100) < tuning.minSearchSharpness);
  const trackable = detected.map((face, i) => ({ face, i })).filter(({ face }) => identifiable(face));
  const boxes = trackable.map(({ face }) => face.BoundingBox as BoundingBox);
  const signatures = trackable.map(({ i }) => allSignatures?.[i]);
  const decisions = decideFaces(tracking.state, boxes, frame.timestampMs, tracking.settings, signatures);
  const searches = trackable.map(({ face, i }, k) =>
    decisions[k].action === 'search' ? identifyFace(frame, face, i, location, decisions[k], settings, tuning, tracking, deps) : undefined,
  );
  const results = searches.map((search) => {
    const identity = search?.then((o) => o.identity);
    // Awaited below (and by frames that reuse it); this only keeps a failure from being reported as unhandled.
    identity?.catch(() => undefined);
    return identity;
  });
  // The next frame decides its searches from these tracks now, without waiting for this frame's answers.
  tracking.state = advanceTracks(tracking.state, boxes, frame.timestampMs, decisions, results, signatures);
  tracked();

  const outcomes = await Promise.all(searches);
  const identityOf = new Map<number, FaceIdentity>();
  const cropOf = new Map<number, FaceCrop | undefined>();
  await Promise.all(
    trackable.map(async ({ i }, k) => {
      const decision: FaceDecision<Promise<FaceIdentity>> = decisions[k];
      if (decision.action === 'reuse') {
        // A reused face carries the real result of its track's last search (same faces, same similarities), and
        // its visitor without the details of the lookup (the visit started on the frame that looked it up).
        const { matches, visitor } = await decision.track.result;
        identityOf.set(i, { matches, ...(visitor ? { visitor: { VisitorId: visitor.VisitorId } } : {}) });
      } else identityOf.set(i, outcomes[k]!.identity);
      if (outcomes[k]) cropOf.set(i, outcomes[k]!.crop);
    }),
  );
  for (const identity of identityOf.values()) {
    if (!identity.visitor) continue;
    const last = tracking.visitorsSeen.get(identity.visitor.VisitorId);
    tracking.visitorsSeen.set(identity.visitor.VisitorId, Math.max(last ?? -Infinity, frame.timestampMs));
  }
  const faces: AnalysedFace[] = detected.map((face, i) => {
    const identity = identityOf.get(i);
    return { detected: face, matches: identity?.matches ?? [], ...(identity?.visitor ? { visitor: identity.visitor } : {}) };
  });
  const record = buildFaceSearchRecord(location, faces);

  if (deps.snapshots && settings.snapshots) {
    const video = record.InputInformation.KinesisVideo;
    // About one frame a second keeps every face's snapshot; a searched face keeps it in any frame (keepsSnapshot).
    const everyFace = keepsSnapshot(Math.round((video.ProducerTimestamp + video.FrameOffsetInSeconds) * 1000), samplingIntervalMs(settings.samplingFps));
    await Promise.all(
      detected.map(async (face, faceIndex) => {
        if (!validBox(face.BoundingBox)) return;
        if (!everyFace && !cropOf.get(faceIndex)) return;
        // A reused face was not cropped for a search: cut its snapshot now (a few ms with sharp).
        const crop = cropOf.has(faceIndex) ? cropOf.get(faceIndex) : await deps.cropper.crop(frame.image, paddedCropRegion(face.BoundingBox, tuning.cropPadding));
        if (!crop) return;
        const key = snapshotKey({
          camera: settings.camera,
          streamArn: video.StreamArn,
          fragmentNumber: video.FragmentNumber,
          frameOffsetInSeconds: video.FrameOffsetInSeconds,
          faceIndex,
        });
        try {
          await deps.snapshots!.put(key, crop.image);
        } catch (error) {
          // A missing snapshot loses a picture, not a sighting: the record still goes out.
          deps.logger?.warn('Snapshot not stored', { key, error: (error as Error).message });
        }
      }),
    );
  }
  const searched = decisions.filter((d) => d.action === 'search').length;
  const lookups = outcomes.flatMap((o) => (o?.lookup ? [o.lookup] : []));
  return {
    frameMs: frame.timestampMs,
    outgoing: { partitionKey: `${settings.camera}/${location.fragmentNumber}`, record },
    faces: detected.length,
    searched,
    reused: decisions.length - searched,
    visitorLookups: lookups.length,
    visitorsIndexed: lookups.filter((l) => l === 'indexed').length,
  };
}

/**
 * SearchFacesByImage searches only the largest face of its image, so each face is searched in its own
 * padded crop. If the searcher picked another face (a bigger neighbour inside the padding), the same face is
 * searched again in a tight crop; if that still fails, the face is reported with no match rather than with
 * someone else's.
 */
export async function searchFace(
  frame: Uint8Array,
  face: DetectedFaceInput,
  settings: ProcessorSettings,
  tuning: SliceTuning,
  deps: SliceDependencies,
): Promise<{ matches: FaceMatchInput[]; crop?: FaceCrop; searched?: FaceCrop }> {
  const box = face.BoundingBox;
  if (!box || ![box.Left, box.Top, box.Width, box.Height].every(Number.isFinite)) return { matches: [] };
  const detectedBox = box as BoundingBox;
  const options = { collectionId: settings.collectionId, faceMatchThreshold: settings.faceMatchThreshold, maxFaces: settings.maxFaces };
  // A second, tight crop only when the first one let a bigger neighbour in.
  const paddings = tuning.cropPadding > TIGHT_PADDING ? [tuning.cropPadding, TIGHT_PADDING] : [tuning.cropPadding];
  let firstCrop: FaceCrop | undefined;
  for (const padding of paddings) {
    const crop = await deps.cropper.crop(frame, paddedCropRegion(detectedBox, padding));
    firstCrop ??= crop;
    let result: FaceSearchResult | null;
    try {
      result = await deps.analyzer.searchFacesByImage(crop.image, options);
    } catch (error) {
      if (FRAME_ERRORS.has((error as Error).name)) return { matches: [], crop: firstCrop };
      throw error;
    }
    if (!result) return { matches: [], crop: firstCrop };
    if (searchedTheSameFace(crop.region, result.searchedFace, detectedBox)) return { matches: result.matches, crop: firstCrop, searched: crop };
  }
  deps.logger?.warn('SearchFacesByImage kept searching another face of the crop: face reported unmatched', { camera: settings.camera });
  return { matches: [], crop: firstCrop };
}

const TIGHT_PADDING = 0.1;

/**
 * Why a face that continues a track is searched again: for these its person is the same, so an unmatched face
 * keeps its track's visitor (no second lookup); another look or an ambiguous pairing may be someone else.
 */
const SAME_PERSON_REASONS = new Set(['expired', 'moved', 'better-view']);

/** Whether the best match names a registered person (the consumer's rule: at or above the threshold, with an id). */
const namesSomeone = (matches: readonly FaceMatchInput[], threshold: number) =>
  matches.some((m) => (m.Similarity ?? 0) >= threshold && Boolean(m.Face?.ExternalImageId));

/**
 * Searches a face in the collection and, when visitors are on and it matched nobody, finds its visitor: once per
 * track (a face that stays in view keeps it), searched in the visitors collection with the crop that was searched,
 * and indexed there as a new visitor when nobody matches.
 */
async function identifyFace(
  frame: UsableFrame,
  face: DetectedFaceInput,
  faceIndex: number,
  location: FrameLocation,
  decision: FaceDecision<Promise<FaceIdentity>>,
  settings: ProcessorSettings,
  tuning: SliceTuning,
  tracking: Tracking,
  deps: SliceDependencies,
): Promise<{ identity: FaceIdentity; crop?: FaceCrop; lookup?: VisitorLookup }> {
  const outcome = await searchFace(frame.image, face, settings, tuning, deps);
  const identity: FaceIdentity = { matches: outcome.matches };
  if (!settings.visitorCollectionId || !deps.visitors || !outcome.searched || namesSomeone(outcome.matches, settings.faceMatchThreshold)) {
    return { identity, crop: outcome.crop };
  }
  const track = decision.action === 'search' ? decision.track : undefined;
  const previous = track ? (await track.result.catch(() => undefined))?.visitor : undefined;
  if (previous && decision.action === 'search' && SAME_PERSON_REASONS.has(decision.reason)) identity.visitor = { VisitorId: previous.VisitorId };
  else {
    const { visitor, lookup } = await lookUpVisitor(outcome.searched.image, faceIndex, location, frame.timestampMs, previous?.VisitorId, settings, tracking, deps);
    if (visitor) identity.visitor = visitor;
    return { identity, crop: outcome.crop, lookup };
  }
  return { identity, crop: outcome.crop };
}

/** How a visitor lookup went: a visitor found, a new one indexed, or none (no searchable face, refused, failed). */
type VisitorLookup = 'found' | 'indexed' | 'none';

/**
 * The visitor of an unknown face's crop: the visitors collection's best match at or above the threshold, else a
 * new visitor indexed from this crop. A failure leaves the face without a visitor (its sighting is kept); the
 * track's next search tries again.
 */
async function lookUpVisitor(
  crop: Uint8Array,
  faceIndex: number,
  location: FrameLocation,
  frameMs: number,
  trackVisitor: string | undefined,
  settings: ProcessorSettings,
  tracking: Tracking,
  deps: SliceDependencies,
): Promise<{ visitor?: RecordVisitor; lookup: VisitorLookup }> {
  const collectionId = settings.visitorCollectionId!;
  const gapMs = (settings.visitGapSeconds ?? DEFAULT_VISIT_GAP_SECONDS) * 1000;
  // A new visit unless this track already was this visitor, or the visitor was in view within the gap.
  const startsVisit = (visitorId: string) => {
    const last = tracking.visitorsSeen.get(visitorId);
    return visitorId !== trackVisitor && !(last !== undefined && Math.abs(frameMs - last) <= gapMs);
  };
  try {
    const found = await deps.visitors!.search(crop, { collectionId, faceMatchThreshold: settings.faceMatchThreshold });
    if (found === null) return { lookup: 'none' };
    if (found) {
      return { visitor: { VisitorId: found.visitorId, ...(startsVisit(found.visitorId) ? { VisitStart: true } : {}), FaceId: found.faceId, Similarity: found.similarity }, lookup: 'found' };
    }
    const visitorId = newVisitorId(sightingId(location.streamArn, location.fragmentNumber, frameOffsetSeconds(location), faceIndex));
    const indexed = await deps.visitors!.index(crop, { collectionId, visitorId });
    if (!indexed) return { lookup: 'none' };
    return { visitor: { VisitorId: visitorId, VisitStart: true, FaceId: indexed.faceId }, lookup: 'indexed' };
  } catch (error) {
    deps.logger?.warn('Visitor not identified: the face is recorded without one', { camera: settings.camera, error: (error as Error).message });
    return { lookup: 'none' };
  }
}

