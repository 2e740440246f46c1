import {
  MAX_SAMPLING_FPS,
  MIN_SAMPLING_FPS,
  buildFaceSearchRecord,
  fragmentStart,
  locateFrame,
  paddedCropRegion,
  sampleTimes,
  samplingIntervalMs,
  searchedTheSameFace,
  type AnalysedFace,
  type Box,
  type DetectedFaceInput,
  type FaceMatchInput,
  type StreamProcessorRecord,
  type TimestampDomain,
  type VideoFragment,
} from '../domain/frame-analysis';
import { snapshotKey } from '../domain/snapshot-key';

/**
 * The self-managed face-search processor's work for one camera over a slice of wall-clock time: sample
 * frames from the Kinesis Video stream as they become available, find the faces of each frame, search each
 * face in the collection, and write one record per analysed frame, exactly as Rekognition's managed stream
 * processor does. Runs inside the worker Lambda (functions/process-video) and the local runner alike.
 */

// ---------- ports ----------

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
  searchedFace: Box;
  matches: FaceMatchInput[];
}

/** Rekognition: DetectFaces (default attributes) and SearchFacesByImage. */
export interface FaceAnalyzer {
  detectFaces(image: Uint8Array): Promise<DetectedFaceInput[]>;
  /** Null when the image holds no face Rekognition can search. */
  searchFacesByImage(image: Uint8Array, options: SearchOptions): Promise<FaceSearchResult | null>;
}

export interface FaceCrop {
  image: Uint8Array;
  /** Where the crop really sits in the frame (after rounding to pixels and clamping), ratios of the frame. */
  region: Box;
}

export interface FaceCropper {
  crop(frame: Uint8Array, region: Box): Promise<FaceCrop>;
}

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
  logger?: SliceLogger;
}

// ---------- settings ----------

export interface ProcessorSettings {
  camera: string;
  collectionId: string;
  /** As the managed processor: values below 80 are raised to 80. */
  faceMatchThreshold: number;
  /** Matches kept per face (SearchFacesByImage's MaxFaces). */
  maxFaces: number;
  /** Frames analysed per second of video: 0.05–5 (GetImages' sampling bounds). */
  samplingFps: number;
  /** Keep a JPEG of each face under snapshots/<camera>/ (shared/domain/snapshot-key.ts). */
  snapshots: boolean;
}

export interface SliceTuning {
  /** Margin around each face in its crop, as a fraction of the face box per side. */
  cropPadding: number;
  /** Frames analysed at once (Rekognition calls in flight ≈ this × (1 + faces)). */
  concurrency: number;
  /** Records are written per window: the longest wait between a frame's arrival and its record. */
  maxWindowMs: number;
  /** Further behind live than this, the processor skips ahead (live alerts matter, a stale backlog does not). */
  maxLagMs: number;
  /** Wait between polls when no new video has arrived. */
  idlePollMs: number;
  /** Consecutive failed windows before the slice gives up with the last error. */
  maxConsecutiveFailures: number;
}

export const DEFAULT_TUNING: SliceTuning = {
  cropPadding: 0.4,
  concurrency: 4,
  maxWindowMs: 1_000,
  maxLagMs: 60_000,
  idlePollMs: 250,
  maxConsecutiveFailures: 5,
};

/** AWS raises a face-search threshold below 80 to 80. */
export const MIN_FACE_MATCH_THRESHOLD = 80;

export class ProcessorSettingsError extends Error {
  override readonly name = 'ProcessorSettingsError';
}

/** Throws ProcessorSettingsError naming what to fix. */
export function validateSettings(settings: ProcessorSettings): ProcessorSettings {
  const problems: string[] = [];
  if (!(settings.samplingFps >= MIN_SAMPLING_FPS && settings.samplingFps <= MAX_SAMPLING_FPS))
    problems.push(`samplingFps ${settings.samplingFps} must be from ${MIN_SAMPLING_FPS} to ${MAX_SAMPLING_FPS} frames/s (GetImages samples every 200 ms at most)`);
  if (!(settings.faceMatchThreshold >= 0 && settings.faceMatchThreshold <= 100))
    problems.push(`faceMatchThreshold ${settings.faceMatchThreshold} must be from 0 to 100`);
  if (!(Number.isInteger(settings.maxFaces) && settings.maxFaces >= 1 && settings.maxFaces <= 4096))
    problems.push(`maxFaces ${settings.maxFaces} must be an integer from 1 to 4096`);
  if (!settings.collectionId) problems.push('collectionId is empty');
  if (problems.length) throw new ProcessorSettingsError(`Bad processor settings for camera "${settings.camera}": ${problems.join('; ')}`);
  return { ...settings, faceMatchThreshold: Math.max(MIN_FACE_MATCH_THRESHOLD, settings.faceMatchThreshold) };
}

// ---------- errors ----------

/** Errors no retry can fix: the processor goes FAILED with this message, as the managed one does. */
const PERMANENT_ERRORS: Record<string, string> = {
  ResourceNotFoundException: 'a resource the processor needs does not exist (collection or video stream)',
  AccessDeniedException: 'access denied',
  NotAuthorizedException: 'access to the Kinesis Video stream denied',
  NoDataRetentionException: 'the Kinesis Video stream keeps no data (DataRetentionInHours = 0): GetImages needs retention',
  ProcessorSettingsError: 'bad settings',
};

export class ProcessorFailure extends Error {
  override readonly name = 'ProcessorFailure';
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
  }
}

function permanentFailure(error: unknown): ProcessorFailure | undefined {
  const name = (error as Error)?.name;
  const reason = name ? PERMANENT_ERRORS[name] : undefined;
  return reason ? new ProcessorFailure(`${reason}: ${(error as Error).message}`, error) : undefined;
}

/** Per-frame problems: that frame cannot be analysed, the others can. */
const FRAME_ERRORS = new Set(['InvalidImageFormatException', 'ImageTooLargeException', 'InvalidParameterException']);

// ---------- the slice ----------

export interface SliceInput {
  settings: ProcessorSettings;
  /** Next sample time on the source's clock (epoch ms). */
  cursorMs: number;
  /** Time of the last frame already analysed (never analysed twice). */
  lastFrameMs?: number;
  /** Wall-clock time (clock.now()) at which the slice must have returned. */
  deadlineMs: number;
  tuning?: Partial<SliceTuning>;
}

export interface SliceResult {
  cursorMs: number;
  lastFrameMs?: number;
  framesAnalysed: number;
  recordsWritten: number;
  facesFound: number;
  /** Video skipped because the processor fell more than maxLagMs behind. */
  skippedMs: number;
  /** 'deadline': time is up, chain on; 'stopped': the processor was stopped or another worker took over. */
  ended: 'deadline' | 'stopped';
}

const LOOKBACK_MS = 30_000;
const LOOKAHEAD_MS = 600_000;

export async function analyseVideoSlice(input: SliceInput, deps: SliceDependencies): Promise<SliceResult> {
  const settings = validateSettings(input.settings);
  const tuning: SliceTuning = { ...DEFAULT_TUNING, ...input.tuning };
  const { frames, clock, progress, logger } = deps;
  const interval = samplingIntervalMs(settings.samplingFps);
  const streamArn = await frames.streamArn();
  const result: SliceResult = {
    cursorMs: input.cursorMs,
    lastFrameMs: input.lastFrameMs,
    framesAnalysed: 0,
    recordsWritten: 0,
    facesFound: 0,
    skippedMs: 0,
    ended: 'deadline',
  };
  let failures = 0;
  let lastRenewMs = -Infinity;

  const remaining = () => input.deadlineMs - clock.now();
  while (remaining() > 0) {
    try {
      const now = clock.now();
      const fragments = await frames.listFragments(result.cursorMs - LOOKBACK_MS, Math.max(now, result.cursorMs) + LOOKAHEAD_MS);
      const availableEnd = fragments.reduce((end, f) => Math.max(end, fragmentStart(f, frames.domain) + f.durationMs), -Infinity);

      if (!(availableEnd > result.cursorMs)) {
        // Nothing new yet: still check now and then that the processor was not stopped meanwhile.
        if (clock.now() - lastRenewMs >= 1_000) {
          lastRenewMs = clock.now();
          if (!(await progress.renew())) return { ...result, ended: 'stopped' };
        }
        await clock.sleep(Math.max(0, Math.min(tuning.idlePollMs, remaining())));
        continue;
      }

      if (availableEnd - result.cursorMs > tuning.maxLagMs) {
        const steps = Math.floor((availableEnd - tuning.maxLagMs - result.cursorMs) / interval);
        result.skippedMs += steps * interval;
        logger?.warn('Processor fell behind live video: skipping ahead', { camera: settings.camera, skippedMs: steps * interval });
        result.cursorMs += steps * interval;
      }

      const windowEnd = Math.min(availableEnd, result.cursorMs + tuning.maxWindowMs);
      const times = sampleTimes(result.cursorMs, windowEnd, interval);
      const sampled = await frames.getFrames(times[0], times[times.length - 1], interval);
      const fresh = freshFrames(sampled, result.lastFrameMs);

      const analysed = await mapWithConcurrency(fresh, tuning.concurrency, (frame) =>
        analyseFrame(frame, fragments, streamArn, settings, tuning, deps),
      );
      const records = analysed.filter((r): r is AnalysedFrame => r !== undefined);

      if (records.length) {
        // The processor may have been stopped while we analysed: write nothing after a stop.
        if (!(await progress.renew())) return { ...result, ended: 'stopped' };
        lastRenewMs = clock.now();
        await deps.sink.put(records.map(({ outgoing }) => outgoing));
      }

      const next = {
        cursorMs: times[times.length - 1] + interval,
        lastFrameMs: fresh.length ? Math.max(result.lastFrameMs ?? -Infinity, fresh[fresh.length - 1].timestampMs) : result.lastFrameMs,
        framesAnalysed: result.framesAnalysed + records.length,
      };
      if (!(await progress.checkpoint(next))) return { ...result, ...next, recordsWritten: result.recordsWritten + records.length, ended: 'stopped' };
      lastRenewMs = clock.now();
      Object.assign(result, next);
      result.recordsWritten += records.length;
      result.facesFound += records.reduce((n, r) => n + r.faces, 0);
      failures = 0;
    } catch (error) {
      const permanent = permanentFailure(error);
      if (permanent) throw permanent;
      failures += 1;
      if (failures >= tuning.maxConsecutiveFailures) throw new ProcessorFailure(`${failures} attempts in a row failed: ${(error as Error).message}`, error);
      logger?.warn('Window failed: retrying it', { camera: settings.camera, attempt: failures, error: (error as Error).message });
      await clock.sleep(Math.max(0, Math.min(200 * 2 ** failures, remaining())));
    }
  }
  return result;
}

/** Frames with an image, after the last analysed one, each once (samples can land on the same frame). */
function freshFrames(sampled: readonly SampledFrame[], lastFrameMs: number | undefined): (SampledFrame & { image: Uint8Array })[] {
  const seen = new Set<number>();
  const out: (SampledFrame & { image: Uint8Array })[] = [];
  for (const frame of [...sampled].sort((a, b) => a.timestampMs - b.timestampMs)) {
    if (!frame.image || frame.image.length === 0) continue;
    if (lastFrameMs !== undefined && frame.timestampMs <= lastFrameMs) continue;
    if (seen.has(frame.timestampMs)) continue;
    seen.add(frame.timestampMs);
    out.push(frame as SampledFrame & { image: Uint8Array });
  }
  return out;
}

interface AnalysedFrame {
  outgoing: OutgoingRecord;
  faces: number;
}

async function analyseFrame(
  frame: SampledFrame & { image: Uint8Array },
  fragments: readonly VideoFragment[],
  streamArn: string,
  settings: ProcessorSettings,
  tuning: SliceTuning,
  deps: SliceDependencies,
): Promise<AnalysedFrame | undefined> {
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

  const searched = await Promise.all(detected.map((face) => searchFace(frame.image, face, settings, tuning, deps)));
  const faces: AnalysedFace[] = detected.map((face, i) => ({ detected: face, matches: searched[i].matches }));
  const record = buildFaceSearchRecord(location, faces);

  if (deps.snapshots && settings.snapshots) {
    const video = record.InputInformation.KinesisVideo;
    await Promise.all(
      searched.map(async ({ crop }, faceIndex) => {
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
  return {
    outgoing: { partitionKey: `${settings.camera}/${location.fragmentNumber}`, record },
    faces: detected.length,
  };
}

/**
 * SearchFacesByImage searches only the largest face of its image, so each face is searched in its own
 * padded crop. If the searcher picked another face (a bigger neighbour inside the padding), the same face is
 * searched again in a tight crop; if that still fails, the face is reported with no match rather than with
 * someone else's.
 */
async function searchFace(
  frame: Uint8Array,
  face: DetectedFaceInput,
  settings: ProcessorSettings,
  tuning: SliceTuning,
  deps: SliceDependencies,
): Promise<{ matches: FaceMatchInput[]; crop?: FaceCrop }> {
  const box = face.BoundingBox;
  if (!box || ![box.Left, box.Top, box.Width, box.Height].every(Number.isFinite)) return { matches: [] };
  const detectedBox = box as Box;
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
    if (searchedTheSameFace(crop.region, result.searchedFace, detectedBox)) return { matches: result.matches, crop: firstCrop };
  }
  deps.logger?.warn('SearchFacesByImage kept searching another face of the crop: face reported unmatched', { camera: settings.camera });
  return { matches: [], crop: firstCrop };
}

const TIGHT_PADDING = 0.1;

/** Runs fn over items with at most `limit` at once; results keep the items' order. */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  });
  await Promise.all(workers);
  return results;
}
