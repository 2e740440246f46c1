import {
  MAX_SAMPLING_FPS,
  MIN_SAMPLING_FPS,
} from '../domain/frame-analysis';

/** The self processor's settings (per camera) and tuning (per deployment), with their bounds. */

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

