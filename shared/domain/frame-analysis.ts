/**
 * Pure rules of the self-managed face-search processor: from one sampled video frame (where it sits in the
 * stream, the faces DetectFaces found, what SearchFacesByImage matched for each) to the exact record
 * Rekognition's managed stream processor writes (docs/face-search-record.md), plus the geometry of face
 * crops. No I/O here: the use case (shared/use-cases/analyse-video-slice.ts) feeds it.
 */
import type { BoundingBox } from './model';
import type { RecordVisitor } from './visitor';

export interface RecordLandmark {
  X: number;
  Y: number;
  Type: string;
}

/** The record, field for field and in the managed processor's order. */
export interface StreamProcessorRecord {
  InputInformation: {
    KinesisVideo: {
      StreamArn: string;
      FragmentNumber: string;
      ServerTimestamp: number;
      ProducerTimestamp: number;
      FrameOffsetInSeconds: number;
    };
  };
  StreamProcessorInformation: { Status: 'RUNNING' };
  FaceSearchResponse: {
    DetectedFace: {
      BoundingBox: { Height: number; Width: number; Left: number; Top: number };
      Confidence: number;
      Landmarks: RecordLandmark[];
      Pose: { Pitch: number; Roll: number; Yaw: number };
      Quality: { Brightness: number; Sharpness: number };
    };
    MatchedFaces: {
      Similarity: number;
      Face: {
        BoundingBox: { Height: number; Width: number; Left: number; Top: number };
        FaceId: string;
        Confidence: number;
        ImageId: string;
        ExternalImageId?: string;
      };
    }[];
    /** facewatch's own, on unknown faces when visitors are on (shared/domain/visitor.ts): not in Rekognition's records. */
    Visitor?: RecordVisitor;
  }[];
}

/** A fragment of the video stream as ListFragments describes it (epoch milliseconds). */
export interface VideoFragment {
  fragmentNumber: string;
  producerStartMs: number;
  serverStartMs: number;
  durationMs: number;
}

/** Which clock the frame timestamps (GetImages / ListFragments selectors) are on. */
export type TimestampDomain = 'SERVER_TIMESTAMP' | 'PRODUCER_TIMESTAMP';

/** Where a frame sits in the stream: what the record's InputInformation.KinesisVideo says. */
export interface FrameLocation {
  streamArn: string;
  fragmentNumber: string;
  serverStartMs: number;
  producerStartMs: number;
  /** Frame time minus its fragment's start, on the same clock. */
  offsetMs: number;
}

/** A face as DetectFaces (default attributes) reports it, ratios of the full frame. Optional as in the SDK. */
export interface DetectedFaceInput {
  BoundingBox?: Partial<BoundingBox>;
  Confidence?: number;
  Landmarks?: { Type?: string; X?: number; Y?: number }[];
  Pose?: { Pitch?: number; Roll?: number; Yaw?: number };
  Quality?: { Brightness?: number; Sharpness?: number };
}

/** One SearchFacesByImage match as the SDK returns it. */
export interface FaceMatchInput {
  Similarity?: number;
  Face?: {
    FaceId?: string;
    BoundingBox?: Partial<BoundingBox>;
    ImageId?: string;
    ExternalImageId?: string;
    Confidence?: number;
  };
}

export interface AnalysedFace {
  detected: DetectedFaceInput;
  matches: FaceMatchInput[];
  /** The recurring unknown visitor this face is, when visitors are on and it matched nobody. */
  visitor?: RecordVisitor;
}

/** The landmarks a face-search record carries (DetectFaces' DEFAULT set). */
export const RECORD_LANDMARKS = ['eyeLeft', 'eyeRight', 'mouthLeft', 'mouthRight', 'nose'] as const;

/**
 * The fragment holding a frame: the latest one starting at or before the frame's time whose span covers it.
 * `fragments` may come in any order (ListFragments promises none). Undefined when no fragment covers it.
 */
export function fragmentOfFrame(fragments: readonly VideoFragment[], frameMs: number, domain: TimestampDomain): VideoFragment | undefined {
  let best: VideoFragment | undefined;
  for (const fragment of fragments) {
    const start = fragmentStart(fragment, domain);
    // Half a millisecond of slack: timestamps cross the wire as seconds with three decimals.
    if (start > frameMs + 0.5) continue;
    if (frameMs > start + Math.max(fragment.durationMs, 0) + 0.5) continue;
    if (!best || start > fragmentStart(best, domain)) best = fragment;
  }
  return best;
}

export const fragmentStart = (fragment: VideoFragment, domain: TimestampDomain): number =>
  domain === 'SERVER_TIMESTAMP' ? fragment.serverStartMs : fragment.producerStartMs;

/** Where the frame at `frameMs` (on `domain`'s clock) sits, or undefined when no listed fragment holds it. */
export function locateFrame(
  streamArn: string,
  fragments: readonly VideoFragment[],
  frameMs: number,
  domain: TimestampDomain,
): FrameLocation | undefined {
  const fragment = fragmentOfFrame(fragments, frameMs, domain);
  if (!fragment) return undefined;
  return {
    streamArn,
    fragmentNumber: fragment.fragmentNumber,
    serverStartMs: fragment.serverStartMs,
    producerStartMs: fragment.producerStartMs,
    offsetMs: Math.max(0, frameMs - fragmentStart(fragment, domain)),
  };
}

/** Epoch ms of a frame on the producer's clock: what a sighting's seenAt becomes. */
export const producerFrameTimeMs = (location: FrameLocation): number => location.producerStartMs + location.offsetMs;

/** Epoch milliseconds → the record's Unix seconds with a millisecond fraction. */
const toSeconds = (ms: number): number => Math.round(ms) / 1000;

/** The record's FrameOffsetInSeconds for a frame, exactly as buildFaceSearchRecord writes it. */
export const frameOffsetSeconds = (location: FrameLocation): number => toSeconds(location.offsetMs);

function requireNumber(value: number | undefined, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${field} is missing from Rekognition's answer`);
  return value;
}

function recordBox(box: Partial<BoundingBox> | undefined, field: string): { Height: number; Width: number; Left: number; Top: number } {
  return {
    Height: requireNumber(box?.Height, `${field}.Height`),
    Width: requireNumber(box?.Width, `${field}.Width`),
    Left: requireNumber(box?.Left, `${field}.Left`),
    Top: requireNumber(box?.Top, `${field}.Top`),
  };
}

/**
 * The record for one analysed frame. Faces keep DetectFaces' order; each face's matches are sorted by
 * similarity, best first. A frame without faces gives an empty FaceSearchResponse, as the managed processor's.
 * Throws when Rekognition left out a field the record must carry (it never does for DetectFaces' defaults).
 */
export function buildFaceSearchRecord(location: FrameLocation, faces: readonly AnalysedFace[]): StreamProcessorRecord {
  return {
    InputInformation: {
      KinesisVideo: {
        StreamArn: location.streamArn,
        FragmentNumber: location.fragmentNumber,
        ServerTimestamp: toSeconds(location.serverStartMs),
        ProducerTimestamp: toSeconds(location.producerStartMs),
        FrameOffsetInSeconds: toSeconds(location.offsetMs),
      },
    },
    StreamProcessorInformation: { Status: 'RUNNING' },
    FaceSearchResponse: faces.map(({ detected, matches, visitor }, index) => {
      const field = `FaceDetails[${index}]`;
      return {
        DetectedFace: {
          BoundingBox: recordBox(detected.BoundingBox, `${field}.BoundingBox`),
          Confidence: requireNumber(detected.Confidence, `${field}.Confidence`),
          Landmarks: recordLandmarks(detected.Landmarks ?? []),
          Pose: {
            Pitch: requireNumber(detected.Pose?.Pitch, `${field}.Pose.Pitch`),
            Roll: requireNumber(detected.Pose?.Roll, `${field}.Pose.Roll`),
            Yaw: requireNumber(detected.Pose?.Yaw, `${field}.Pose.Yaw`),
          },
          Quality: {
            Brightness: requireNumber(detected.Quality?.Brightness, `${field}.Quality.Brightness`),
            Sharpness: requireNumber(detected.Quality?.Sharpness, `${field}.Quality.Sharpness`),
          },
        },
        MatchedFaces: recordMatches(matches, field),
        ...(visitor ? { Visitor: visitor } : {}),
      };
    }),
  };
}

function recordLandmarks(landmarks: NonNullable<DetectedFaceInput['Landmarks']>): RecordLandmark[] {
  const wanted = new Set<string>(RECORD_LANDMARKS);
  return landmarks
    .filter((l): l is RecordLandmark => typeof l.Type === 'string' && wanted.has(l.Type) && Number.isFinite(l.X) && Number.isFinite(l.Y))
    .map((l) => ({ X: l.X, Y: l.Y, Type: l.Type }));
}

function recordMatches(matches: readonly FaceMatchInput[], field: string): StreamProcessorRecord['FaceSearchResponse'][number]['MatchedFaces'] {
  return matches
    .map((match, i) => {
      const at = `${field}.FaceMatches[${i}]`;
      const face = match.Face;
      if (!face?.FaceId) throw new Error(`${at}.Face.FaceId is missing from Rekognition's answer`);
      if (!face.ImageId) throw new Error(`${at}.Face.ImageId is missing from Rekognition's answer`);
      return {
        Similarity: requireNumber(match.Similarity, `${at}.Similarity`),
        Face: {
          BoundingBox: recordBox(face.BoundingBox, `${at}.Face.BoundingBox`),
          FaceId: face.FaceId,
          Confidence: requireNumber(face.Confidence, `${at}.Face.Confidence`),
          ImageId: face.ImageId,
          // Faces indexed without an external id have none: the managed record then omits it too.
          ...(face.ExternalImageId !== undefined ? { ExternalImageId: face.ExternalImageId } : {}),
        },
      };
    })
    .sort((a, b) => b.Similarity - a.Similarity);
}

// ---------- crops ----------

/**
 * The part of the frame to send to SearchFacesByImage for one face: its box grown by `padding` (a fraction
 * of the box's size on each side, so the searcher sees the whole head) and clamped to the frame.
 * SearchFacesByImage searches only the largest face of an image: one tight crop per face makes each face
 * the largest of its own image.
 */
export function paddedCropRegion(face: BoundingBox, padding: number): BoundingBox {
  const left = Math.max(0, face.Left - face.Width * padding);
  const top = Math.max(0, face.Top - face.Height * padding);
  const right = Math.min(1, face.Left + face.Width * (1 + padding));
  const bottom = Math.min(1, face.Top + face.Height * (1 + padding));
  return { Left: left, Top: top, Width: Math.max(0, right - left), Height: Math.max(0, bottom - top) };
}

/** A box given as ratios of a crop → ratios of the full frame, knowing where the crop sits in the frame. */
export function cropBoxToFrame(crop: BoundingBox, boxInCrop: BoundingBox): BoundingBox {
  return {
    Left: crop.Left + boxInCrop.Left * crop.Width,
    Top: crop.Top + boxInCrop.Top * crop.Height,
    Width: boxInCrop.Width * crop.Width,
    Height: boxInCrop.Height * crop.Height,
  };
}

/** Intersection over union of two boxes (same units). */
export function intersectionOverUnion(a: BoundingBox, b: BoundingBox): number {
  const left = Math.max(a.Left, b.Left);
  const top = Math.max(a.Top, b.Top);
  const right = Math.min(a.Left + a.Width, b.Left + b.Width);
  const bottom = Math.min(a.Top + a.Height, b.Top + b.Height);
  const inter = Math.max(0, right - left) * Math.max(0, bottom - top);
  const union = a.Width * a.Height + b.Width * b.Height - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Whether the face SearchFacesByImage searched in a crop is the face the crop was cut for (and not a bigger
 * neighbour that the padding let in). Boxes of two detectors for one face overlap well above this bound.
 */
export const SAME_FACE_MIN_IOU = 0.3;

export function searchedTheSameFace(crop: BoundingBox, searchedInCrop: BoundingBox, detected: BoundingBox): boolean {
  return intersectionOverUnion(cropBoxToFrame(crop, searchedInCrop), detected) >= SAME_FACE_MIN_IOU;
}

// ---------- sampling ----------

/** AWS's GetImages takes a SamplingInterval of 200–20,000 ms: 5 frames/s at most, one per 20 s at least. */
export const MAX_SAMPLING_FPS = 5;
export const MIN_SAMPLING_FPS = 0.05;

export const samplingIntervalMs = (fps: number): number => Math.round(1000 / fps);

/** Sample times of the half-open window [fromMs, toMs) on a grid of `intervalMs` starting at fromMs. */
export function sampleTimes(fromMs: number, toMs: number, intervalMs: number): number[] {
  const times: number[] = [];
  for (let t = fromMs; t < toMs; t += intervalMs) times.push(t);
  return times;
}
