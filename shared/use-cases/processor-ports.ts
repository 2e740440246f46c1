import {
  type DetectedFaceInput,
  type FaceMatchInput,
  type StreamProcessorRecord,
  type TimestampDomain,
  type VideoFragment,
} from '../domain/frame-analysis';
import type { BoundingBox } from '../domain/model';
import {
  type Signature,
} from '../domain/face-tracker';

/** The ports of the self processor's slice (shared/use-cases/analyse-video-slice.ts): what it reads, writes and asks. */

/** One GetImages result: an image, or the reason there is none for that time (NO_MEDIA, MEDIA_ERROR). */
export interface SampledFrame {
  /** Epoch ms on the source's clock. */
  timestampMs: number;
  image?: Uint8Array;
  error?: string;
}

/** The camera's Kinesis Video stream, through GetDataEndpoint + ListFragments + GetImages. */
export interface FrameSource {
  readonly domain: TimestampDomain;
  streamArn(): Promise<string>;
  /** Fragments overlapping [fromMs, toMs], any order. */
  listFragments(fromMs: number, toMs: number): Promise<VideoFragment[]>;
  /** Frames sampled every intervalMs from fromMs to toMs inclusive (GetImages' semantics), in time order. */
  getFrames(fromMs: number, toMs: number, intervalMs: number): Promise<SampledFrame[]>;
}

export interface SearchOptions {
  collectionId: string;
  faceMatchThreshold: number;
  maxFaces: number;
}

export interface FaceSearchResult {
  /** The face SearchFacesByImage searched (the largest of the image), as ratios of that image. */
  searchedFace: BoundingBox;
  matches: FaceMatchInput[];
}

/**
 * Finding faces (the processor's own detector, or Rekognition's DetectFaces with its default attributes) and
 * identifying them (Rekognition's SearchFacesByImage).
 */
export interface FaceAnalyzer {
  detectFaces(image: Uint8Array): Promise<DetectedFaceInput[]>;
  /** Null when the image holds no face Rekognition can search. */
  searchFacesByImage(image: Uint8Array, options: SearchOptions): Promise<FaceSearchResult | null>;
}

/**
 * The collection of unknown faces (recurring visitors, docs/visitors.md): SearchFacesByImage and IndexFaces on a
 * face's crop, each face's ExternalImageId being its visitor's id.
 */
export interface VisitorFaces {
  /** The best visitor face at or above the threshold, none (no match), or null when the image holds no searchable face. */
  search(image: Uint8Array, options: { collectionId: string; faceMatchThreshold: number }): Promise<{ visitorId: string; faceId: string; similarity: number } | undefined | null>;
  /** Indexes the image's face as a face of `visitorId`; undefined when Rekognition refused it (quality, no face). */
  index(image: Uint8Array, options: { collectionId: string; visitorId: string }): Promise<{ faceId: string } | undefined>;
}

export interface FaceCrop {
  image: Uint8Array;
  /** Where the crop really sits in the frame (after rounding to pixels and clamping), ratios of the frame. */
  region: BoundingBox;
}

export interface FaceCropper {
  crop(frame: Uint8Array, region: BoundingBox): Promise<FaceCrop>;
  /**
   * The face's appearance in `region` (shared/domain/face-tracker.ts's Signature), so that the tracker notices
   * another person in the same place. Without it, faces are tracked by their boxes alone.
   */
  signature?(frame: Uint8Array, region: BoundingBox): Promise<Signature>;
  /** The frame's size and a small grey thumbnail of it, for the motion gate. Without it every frame is analysed. */
  thumbnail?(frame: Uint8Array): Promise<FrameThumbnail>;
}

/** A frame's pixel size and its THUMBNAIL_WIDTH × THUMBNAIL_HEIGHT grey thumbnail (row-major, 0–255). */
export interface FrameThumbnail {
  width: number;
  height: number;
  grey: Uint8Array;
}

export const THUMBNAIL_WIDTH = 32;
export const THUMBNAIL_HEIGHT = 24;

export interface OutgoingRecord {
  partitionKey: string;
  record: StreamProcessorRecord;
}

/** The camera's face-search data stream. Resolves once every record is stored (retrying as needed). */
export interface RecordSink {
  put(records: readonly OutgoingRecord[]): Promise<void>;
}

export interface SnapshotStore {
  put(key: string, jpeg: Uint8Array): Promise<void>;
}

export interface SliceProgress {
  cursorMs: number;
  lastFrameMs?: number;
  framesAnalysed: number;
}

/**
 * The processor's state for this worker: whether it may still write, and where it got to. Both answer
 * false once the processor was stopped or another worker holds the camera: the slice then ends at once.
 */
export interface ProgressPort {
  renew(): Promise<boolean>;
  checkpoint(progress: SliceProgress): Promise<boolean>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Structural: the Powertools logger fits, and so does console. */
export interface SliceLogger {
  info(message: string, ...extra: { [key: string]: unknown }[]): void;
  warn(message: string, ...extra: { [key: string]: unknown }[]): void;
}

export interface SliceDependencies {
  frames: FrameSource;
  analyzer: FaceAnalyzer;
  cropper: FaceCropper;
  sink: RecordSink;
  progress: ProgressPort;
  clock: Clock;
  /** Given when snapshots are kept. */
  snapshots?: SnapshotStore;
  /** Given when recurring unknown visitors are identified (with settings.visitorCollectionId). */
  visitors?: VisitorFaces;
  logger?: SliceLogger;
}

