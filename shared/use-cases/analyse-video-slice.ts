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
  type DetectedFaceInput,
  type FaceMatchInput,
  type FrameLocation,
  type StreamProcessorRecord,
  type TimestampDomain,
  type VideoFragment,
} from '../domain/frame-analysis';
import type { BoundingBox } from '../domain/model';
import {
  DEFAULT_TRACKER_SETTINGS,
  advanceTracks,
  decideFaces,
  emptyTrackerState,
  type FaceDecision,
  type Signature,
  type TrackerSettings,
  type TrackerState,
} from '../domain/face-tracker';
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
  /**
   * A face tracked from the previous analysed frame (boxes overlapping) reuses its last SearchFacesByImage
   * result for this long instead of being searched again (shared/domain/face-tracker.ts); 0 searches every
   * face of every frame. Default DEFAULT_SEARCH_REFRESH_SECONDS.
   */
  searchRefreshSeconds?: number;
  /** Faces narrower than this many pixels are recorded unmatched, not searched (too small to identify). Default 40. */
  minFacePixels?: number;
}

export const DEFAULT_SEARCH_REFRESH_SECONDS = 30;
export const DEFAULT_MIN_FACE_PIXELS = 40;
export const MAX_SEARCH_REFRESH_SECONDS = 60;

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
  /**
   * Motion gate: a frame whose thumbnail differs from the last detected frame's by less than this (the largest
   * cell difference, in grey levels, after removing the change of mean brightness) reuses that frame's faces
   * instead of running the detector. 0 turns the gate off.
   */
  motionThreshold: number;
  /** The detector runs at least this often (ms of video) even when nothing moves. */
  maxGatedMs: number;
  /** Faces whose Quality.Sharpness is below this are recorded unmatched, not searched (too blurred to identify). */
  minSearchSharpness: number;
}

export const DEFAULT_TUNING: SliceTuning = {
  cropPadding: 0.4,
  concurrency: 4,
  maxWindowMs: 1_000,
  maxLagMs: 60_000,
  idlePollMs: 250,
  maxConsecutiveFailures: 5,
  motionThreshold: 10,
  maxGatedMs: 5_000,
  minSearchSharpness: 2,
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
  const reuse = settings.searchRefreshSeconds ?? DEFAULT_SEARCH_REFRESH_SECONDS;
  if (!(reuse >= 0 && reuse <= MAX_SEARCH_REFRESH_SECONDS))
    problems.push(`searchRefreshSeconds ${settings.searchRefreshSeconds} must be from 0 (search every frame) to ${MAX_SEARCH_REFRESH_SECONDS}`);
  const minFacePixels = settings.minFacePixels ?? DEFAULT_MIN_FACE_PIXELS;
  if (!(Number.isInteger(minFacePixels) && minFacePixels >= 0 && minFacePixels <= 1000))
    problems.push(`minFacePixels ${settings.minFacePixels} must be an integer from 0 (search every face) to 1000`);
  if (problems.length) throw new ProcessorSettingsError(`Bad processor settings for camera "${settings.camera}": ${problems.join('; ')}`);
  return { ...settings, faceMatchThreshold: Math.max(MIN_FACE_MATCH_THRESHOLD, settings.faceMatchThreshold), searchRefreshSeconds: reuse, minFacePixels };
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
  /** Faces searched with SearchFacesByImage, and faces that reused their track's last search instead. */
  facesSearched: number;
  searchesReused: number;
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
  const reuseMs = (settings.searchRefreshSeconds ?? DEFAULT_SEARCH_REFRESH_SECONDS) * 1000;
  const tracking: Tracking = {
    settings: { ...DEFAULT_TRACKER_SETTINGS, reuseMs, maxGapMs: Math.max(DEFAULT_TRACKER_SETTINGS.maxGapMs, reuseMs) },
    state: emptyTrackerState(),
    gate: { chain: Promise.resolve() },
  };
  const ctx: SliceContext = { streamArn, settings, tuning, tracking, deps };
  // What is written and checkpointed (the slice's result), and where the next window starts: ahead of it while
  // windows are in flight.
  const result: SliceResult = {
    cursorMs: input.cursorMs,
    lastFrameMs: input.lastFrameMs,
    framesAnalysed: 0,
    recordsWritten: 0,
    facesFound: 0,
    facesSearched: 0,
    searchesReused: 0,
    skippedMs: 0,
    ended: 'deadline',
  };
  let launch: Position = { cursorMs: input.cursorMs, lastFrameMs: input.lastFrameMs };
  // Windows in flight, oldest first: at most two, the older one finishing its searches and writes while the newer
  // one's frames are detected (a window starts once every frame of the previous one has decided its searches).
  const inFlight: Window[] = [];
  let failures = 0;
  let lastRenewMs = -Infinity;

  /** Takes the oldest window's outcome into the result; false once the processor was stopped. */
  const commitOldest = async (): Promise<boolean> => {
    const window = inFlight[0];
    const outcome = await window.done;
    inFlight.shift();
    if (outcome.renewedAtMs !== undefined) lastRenewMs = Math.max(lastRenewMs, outcome.renewedAtMs);
    if (outcome.stopped) return false;
    result.cursorMs = window.next.cursorMs;
    result.lastFrameMs = window.next.lastFrameMs;
    count(outcome.records);
    failures = 0;
    return true;
  };
  const count = (records: readonly AnalysedFrame[]) => {
    result.framesAnalysed += records.length;
    result.recordsWritten += records.length;
    result.facesFound += records.reduce((n, r) => n + r.faces, 0);
    result.facesSearched += records.reduce((n, r) => n + r.searched, 0);
    result.searchesReused += records.reduce((n, r) => n + r.reused, 0);
  };
  /**
   * After a failure: windows after the failed one end without writing; windows before it are committed; of the
   * failed one, the records already out count (and are not written again). False if the processor was stopped.
   */
  const settleAfterFailure = async (): Promise<boolean> => {
    await Promise.allSettled(inFlight.map((w) => w.done));
    while (inFlight.length && (await inFlight[0].done.then(() => true, () => false))) if (!(await commitOldest())) return false;
    const written = inFlight[0]?.written ?? [];
    count(written);
    if (written.length) result.lastFrameMs = Math.max(result.lastFrameMs ?? -Infinity, written[written.length - 1].frameMs);
    inFlight.length = 0;
    return true;
  };
  const stopped = async (): Promise<SliceResult> => {
    await Promise.allSettled(inFlight.map((w) => w.done));
    inFlight.length = 0;
    return { ...result, ended: 'stopped' };
  };

  const remaining = () => input.deadlineMs - clock.now();
  while (remaining() > 0) {
    try {
      // Windows already done are committed without waiting.
      while (inFlight.length && inFlight[0].settled) if (!(await commitOldest())) return await stopped();

      const now = clock.now();
      const fragments = await frames.listFragments(launch.cursorMs - LOOKBACK_MS, Math.max(now, launch.cursorMs) + LOOKAHEAD_MS);
      const availableEnd = fragments.reduce((end, f) => Math.max(end, fragmentStart(f, frames.domain) + f.durationMs), -Infinity);

      if (!(availableEnd > launch.cursorMs)) {
        // Nothing new yet: still check now and then that the processor was not stopped meanwhile.
        if (!inFlight.length && clock.now() - lastRenewMs >= 1_000) {
          lastRenewMs = clock.now();
          if (!(await progress.renew())) return { ...result, ended: 'stopped' };
        }
        const wait = Math.max(0, Math.min(tuning.idlePollMs, remaining()));
        // A window finishing meanwhile is committed as soon as it is done, not after the whole wait.
        await (inFlight.length ? Promise.race([clock.sleep(wait), inFlight[0].done.then(() => undefined, () => undefined)]) : clock.sleep(wait));
        continue;
      }

      if (availableEnd - launch.cursorMs > tuning.maxLagMs) {
        const steps = Math.floor((availableEnd - tuning.maxLagMs - launch.cursorMs) / interval);
        result.skippedMs += steps * interval;
        logger?.warn('Processor fell behind live video: skipping ahead', { camera: settings.camera, skippedMs: steps * interval });
        launch = { ...launch, cursorMs: launch.cursorMs + steps * interval };
      }

      const windowEnd = Math.min(availableEnd, launch.cursorMs + tuning.maxWindowMs);
      const times = sampleTimes(launch.cursorMs, windowEnd, interval);
      const sampled = await frames.getFrames(times[0], times[times.length - 1], interval);
      const fresh = freshFrames(sampled, launch.lastFrameMs);
      const next: Position = {
        cursorMs: times[times.length - 1] + interval,
        lastFrameMs: fresh.length ? Math.max(launch.lastFrameMs ?? -Infinity, fresh[fresh.length - 1].timestampMs) : launch.lastFrameMs,
      };
      const window = startWindow(ctx, fresh, fragments, next, inFlight[inFlight.length - 1]);
      inFlight.push(window);
      launch = next;

      // The next window starts once this one's frames have all decided their searches (or it ended early);
      // the window before it must be done by then.
      await Promise.race([window.decided, window.done]);
      while (inFlight.length > 1 || (inFlight.length && inFlight[0].settled)) if (!(await commitOldest())) return await stopped();
    } catch (error) {
      // The analysis starts again after the last record that is out, tracking afresh.
      if (!(await settleAfterFailure())) return { ...result, ended: 'stopped' };
      launch = { cursorMs: result.cursorMs, lastFrameMs: result.lastFrameMs };
      tracking.state = emptyTrackerState();
      const permanent = permanentFailure(error);
      if (permanent) throw permanent;
      failures += 1;
      if (failures >= tuning.maxConsecutiveFailures) throw new ProcessorFailure(`${failures} attempts in a row failed: ${(error as Error).message}`, error);
      logger?.warn('Window failed: retrying it', { camera: settings.camera, attempt: failures, error: (error as Error).message });
      await clock.sleep(Math.max(0, Math.min(200 * 2 ** failures, remaining())));
    }
  }
  // Time is up: the windows in flight finish (their frames are already being analysed) and are committed.
  try {
    while (inFlight.length) if (!(await commitOldest())) return await stopped();
  } catch (error) {
    logger?.warn('Last window failed: the next run analyses it again', { camera: settings.camera, error: (error as Error).message });
    if (!(await settleAfterFailure())) return { ...result, ended: 'stopped' };
  }
  return result;
}

/** Where the next window starts: the next sample time, and the last frame already analysed (never twice). */
interface Position {
  cursorMs: number;
  lastFrameMs?: number;
}

/** What every window of a slice works with. */
interface SliceContext {
  streamArn: string;
  settings: ProcessorSettings;
  tuning: SliceTuning;
  tracking: Tracking;
  deps: SliceDependencies;
}

/** A window of frames being analysed, written and checkpointed, in order after the window before it. */
interface Window {
  /** Every frame of the window has decided its searches: the next window's frames may take their turns. */
  decided: Promise<void>;
  /** Records written and checkpoint taken (or the processor found stopped); rejects when the window failed. */
  done: Promise<{ records: AnalysedFrame[]; stopped: boolean; renewedAtMs?: number }>;
  settled: boolean;
  /** Where the window after it starts. */
  next: Position;
  /** Frames whose records are already out, even if the window fails later. */
  written: readonly AnalysedFrame[];
}

function startWindow(ctx: SliceContext, fresh: readonly UsableFrame[], fragments: readonly VideoFragment[], next: Position, previous: Window | undefined): Window {
  const { deps } = ctx;
  // Records and checkpoints go out in frame order: after the previous window's, and never if it failed.
  const previousDone = previous ? previous.done.then(() => undefined) : Promise.resolve();
  previousDone.catch(() => undefined);
  const writer = new OrderedWriter(deps.progress, deps.sink, deps.clock, previousDone);
  let decide!: () => void;
  const decided = new Promise<void>((resolve) => (decide = resolve));
  const analysed = analyseFrames(ctx, fresh, fragments, previous?.decided, decide, (index, frame) => writer.done(index, frame));
  const window: Window = {
    decided,
    next,
    written: writer.written,
    settled: false,
    done: (async () => {
      let records: AnalysedFrame[];
      try {
        records = (await analysed).filter((r): r is AnalysedFrame => r !== undefined);
      } finally {
        decide(); // a failed window must not hold the next one's turns
      }
      await writer.finish();
      if (writer.stopped) return { records, stopped: true, renewedAtMs: writer.renewedAtMs };
      await previousDone;
      const checkpointed = await deps.progress.checkpoint({ cursorMs: next.cursorMs, lastFrameMs: next.lastFrameMs, framesAnalysed: records.length });
      return { records, stopped: !checkpointed, renewedAtMs: deps.clock.now() };
    })(),
  };
  window.done.then(
    () => (window.settled = true),
    () => (window.settled = true),
  );
  return window;
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
  /** The frame's time on the source's clock. */
  frameMs: number;
  outgoing: OutgoingRecord;
  faces: number;
  /** Faces searched with SearchFacesByImage / faces that reused their track's result. */
  searched: number;
  reused: number;
}

/** The face tracker of a slice: its settings and the tracks of the last analysed frame. */
interface Tracking {
  settings: TrackerSettings;
  /** A track's result is its search in flight: the next frame can reuse it before it has answered. */
  state: TrackerState<Promise<FaceMatchInput[]>>;
  /** The motion gate: the last frame the detector ran on (its thumbnail and faces), and the gate steps in order. */
  gate: { key?: { frameMs: number; thumbnail: FrameThumbnail; detection: Promise<Detection | undefined> }; chain: Promise<void> };
}

/** What the motion gate decided for a frame, and the frame's pixel width when known. */
interface GateOutcome {
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
async function gateFrame(frame: UsableFrame, tuning: SliceTuning, tracking: Tracking, deps: SliceDependencies): Promise<GateOutcome> {
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

type UsableFrame = SampledFrame & { image: Uint8Array };

/**
 * The window's frames, `tuning.concurrency` at once, records in frame order. DetectFaces runs concurrently;
 * with search reuse on, each frame decides which faces to search after the previous frame has decided (the
 * tracks it left; the first frame after the previous window's last), but does not wait for that frame's
 * searches to answer. `decided` is called once every frame has decided.
 */
async function analyseFrames(
  { streamArn, settings, tuning, tracking, deps }: SliceContext,
  fresh: readonly UsableFrame[],
  fragments: readonly VideoFragment[],
  previousDecided: Promise<void> | undefined,
  decided: () => void,
  analysed: (index: number, frame: AnalysedFrame | undefined) => void,
): Promise<(AnalysedFrame | undefined)[]> {
  const ordered = tracking.settings.reuseMs > 0;
  const turns = fresh.map(() => deferred());
  const before = previousDecided ?? Promise.resolve();
  if (fresh.length === 0) before.then(decided, decided);
  else turns[fresh.length - 1].promise.then(decided);
  // `concurrency` frames at once in detection and decision; a frame that has decided waits for its searches
  // (and for the searches it reuses) outside that limit, so a slow search never keeps later frames from starting.
  const slots = new Semaphore(tuning.concurrency);
  // The motion gate decides frame by frame, in time order (each against the last frame the detector ran on).
  const gates = fresh.map((frame) => {
    const gate = tracking.gate.chain.then(() => gateFrame(frame, tuning, tracking, deps));
    tracking.gate.chain = gate.then(
      () => undefined,
      () => undefined,
    );
    return gate;
  });
  return Promise.all(
    fresh.map(async (frame, index) => {
      await slots.acquire();
      let held = true;
      const release = () => {
        if (held) slots.release();
        held = false;
      };
      const gate = await gates[index];
      try {
        let detection: Detection | undefined;
        try {
          detection = gate.reuse ? await reuseDetection(frame, await gate.reuse, fragments, streamArn, deps) : await detectFrame(frame, fragments, streamArn, settings, deps, ordered);
        } finally {
          gate.key?.(detection);
        }
        if (ordered) await (index > 0 ? turns[index - 1].promise : before);
        const result = detection
          ? await analyseFrame(frame, { ...detection, frameWidth: gate.width }, settings, tuning, tracking, deps, () => {
              turns[index].resolve();
              release();
            })
          : undefined;
        analysed(index, result);
        return result;
      } finally {
        turns[index].resolve();
        release();
      }
    }),
  );
}

/** Permits handed out in the order they were asked for. */
class Semaphore {
  private readonly waiting: (() => void)[] = [];
  constructor(private free: number) {}

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}

interface Detection {
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
async function reuseDetection(
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
async function detectFrame(
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

const validBox = (box: DetectedFaceInput['BoundingBox']): box is BoundingBox =>
  box !== undefined && [box.Left, box.Top, box.Width, box.Height].every(Number.isFinite);

/**
 * Searches the frame's faces (or reuses their tracks' results), then builds its record and keeps snapshots.
 * `tracked` is called as soon as the tracks are updated: the next frame may then decide its own searches.
 */
async function analyseFrame(
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
  const searches = trackable.map(({ face }, k) => (decisions[k].action === 'search' ? searchFace(frame.image, face, settings, tuning, deps) : undefined));
  const results = searches.map((search) => {
    const matches = search?.then((o) => o.matches);
    // Awaited below (and by frames that reuse it); this only keeps a failure from being reported as unhandled.
    matches?.catch(() => undefined);
    return matches;
  });
  // The next frame decides its searches from these tracks now, without waiting for this frame's answers.
  tracking.state = advanceTracks(tracking.state, boxes, frame.timestampMs, decisions, results, signatures);
  tracked();

  const outcomes = await Promise.all(searches);
  const matchesOf = new Map<number, FaceMatchInput[]>();
  const cropOf = new Map<number, FaceCrop | undefined>();
  await Promise.all(
    trackable.map(async ({ i }, k) => {
      const decision: FaceDecision<Promise<FaceMatchInput[]>> = decisions[k];
      // A reused face carries the real result of its track's last search (same faces, same similarities).
      matchesOf.set(i, decision.action === 'reuse' ? await decision.track.result : outcomes[k]!.matches);
      if (outcomes[k]) cropOf.set(i, outcomes[k]!.crop);
    }),
  );
  const faces: AnalysedFace[] = detected.map((face, i) => ({ detected: face, matches: matchesOf.get(i) ?? [] }));
  const record = buildFaceSearchRecord(location, faces);

  if (deps.snapshots && settings.snapshots) {
    const video = record.InputInformation.KinesisVideo;
    await Promise.all(
      detected.map(async (face, faceIndex) => {
        if (!validBox(face.BoundingBox)) return;
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
  return {
    frameMs: frame.timestampMs,
    outgoing: { partitionKey: `${settings.camera}/${location.fragmentNumber}`, record },
    faces: detected.length,
    searched,
    reused: decisions.length - searched,
  };
}

/**
 * Writes a window's records in frame order as their frames complete. The processor's lease is renewed once,
 * before the window's first write: after a stop nothing more is written (frames still being analysed then
 * are dropped). A failed write stops the writing; finish() rethrows it and the window is retried.
 */
class OrderedWriter {
  private readonly ready = new Map<number, AnalysedFrame | undefined>();
  private next = 0;
  private chain: Promise<void>;
  private renewal?: Promise<boolean>;
  private error?: unknown;
  stopped = false;
  renewedAtMs?: number;
  /** Frames whose records are out, in order (also when a later write failed). */
  readonly written: AnalysedFrame[] = [];

  /** `after`: the previous window's records are written (the chain starts from it; rejected: nothing is written). */
  constructor(
    private readonly progress: ProgressPort,
    private readonly sink: RecordSink,
    private readonly clock: Clock,
    after: Promise<void> = Promise.resolve(),
  ) {
    this.chain = after;
    this.chain.catch(() => undefined); // surfaced by finish(), not as an unhandled rejection meanwhile
  }

  done(index: number, frame: AnalysedFrame | undefined): void {
    this.ready.set(index, frame);
    const batch: AnalysedFrame[] = [];
    while (this.ready.has(this.next)) {
      const f = this.ready.get(this.next);
      this.ready.delete(this.next);
      this.next += 1;
      if (f) batch.push(f);
    }
    if (batch.length) {
      this.chain = this.chain.then(() => this.write(batch));
      this.chain.catch(() => undefined); // surfaced by finish()
    }
  }

  private async write(batch: AnalysedFrame[]): Promise<void> {
    if (this.error !== undefined || this.stopped) return;
    try {
      if (!this.renewal) {
        this.renewal = this.progress.renew();
        const renewed = await this.renewal;
        this.renewedAtMs = this.clock.now();
        if (!renewed) this.stopped = true;
      }
      if (this.stopped || !(await this.renewal)) return;
      await this.sink.put(batch.map(({ outgoing }) => outgoing));
      this.written.push(...batch);
    } catch (error) {
      this.error = error;
    }
  }

  async finish(): Promise<void> {
    await this.chain;
    if (this.error !== undefined) throw this.error;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
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
    if (searchedTheSameFace(crop.region, result.searchedFace, detectedBox)) return { matches: result.matches, crop: firstCrop };
  }
  deps.logger?.warn('SearchFacesByImage kept searching another face of the crop: face reported unmatched', { camera: settings.camera });
  return { matches: [], crop: firstCrop };
}

const TIGHT_PADDING = 0.1;
