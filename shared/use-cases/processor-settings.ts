import { z } from 'zod';
import { MAX_SAMPLING_FPS, MIN_SAMPLING_FPS } from '../domain/frame-analysis';
import { DEFAULT_VISIT_GAP_SECONDS } from '../domain/visitor';

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
   * A face that stays in view (tracked from frame to frame) reuses its last SearchFacesByImage result for this
   * long before it is searched again (shared/domain/face-tracker.ts); 0 searches every face of every frame.
   * Default DEFAULT_SEARCH_REFRESH_SECONDS.
   */
  searchRefreshSeconds?: number;
  /** Faces narrower than this many pixels are recorded unmatched, not searched (too small to identify). Default 40. */
  minFacePixels?: number;
  /**
   * The collection of unknown faces: a searched face that matches nobody is searched there too (recurring visitors,
   * docs/visitors.md). Absent: no visitors.
   */
  visitorCollectionId?: string;
  /** A visitor out of view longer than this (s of video) starts a new visit when back. Default DEFAULT_VISIT_GAP_SECONDS. */
  visitGapSeconds?: number;
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

/**
 * The bounds of each setting, once: validateSettings checks a camera's settings with them, and the worker's
 * environment (shared/composition/processor-worker.ts) parses its variables with the same schemas.
 */
export const SETTING_BOUNDS = {
  samplingFps: z
    .number()
    .min(MIN_SAMPLING_FPS, `must be from ${MIN_SAMPLING_FPS} to ${MAX_SAMPLING_FPS} frames/s (GetImages samples every 200 ms at most)`)
    .max(MAX_SAMPLING_FPS, `must be from ${MIN_SAMPLING_FPS} to ${MAX_SAMPLING_FPS} frames/s (GetImages samples every 200 ms at most)`),
  faceMatchThreshold: z.number().min(0, 'must be from 0 to 100').max(100, 'must be from 0 to 100'),
  maxFaces: z.number().int('must be an integer from 1 to 4096').min(1, 'must be an integer from 1 to 4096').max(4096, 'must be an integer from 1 to 4096'),
  searchRefreshSeconds: z
    .number()
    .min(0, `must be from 0 (search every frame) to ${MAX_SEARCH_REFRESH_SECONDS}`)
    .max(MAX_SEARCH_REFRESH_SECONDS, `must be from 0 (search every frame) to ${MAX_SEARCH_REFRESH_SECONDS}`),
  visitGapSeconds: z.number().min(0, 'must be from 0 to 86400 seconds').max(86_400, 'must be from 0 to 86400 seconds'),
  minFacePixels: z
    .number()
    .int('must be an integer from 0 (search every face) to 1000')
    .min(0, 'must be an integer from 0 (search every face) to 1000')
    .max(1000, 'must be an integer from 0 (search every face) to 1000'),
} as const;

/** Throws ProcessorSettingsError naming what to fix. */
export function validateSettings(settings: ProcessorSettings): ProcessorSettings {
  const withDefaults = {
    ...settings,
    searchRefreshSeconds: settings.searchRefreshSeconds ?? DEFAULT_SEARCH_REFRESH_SECONDS,
    minFacePixels: settings.minFacePixels ?? DEFAULT_MIN_FACE_PIXELS,
    visitGapSeconds: settings.visitGapSeconds ?? DEFAULT_VISIT_GAP_SECONDS,
  };
  const problems: string[] = [];
  for (const [key, schema] of Object.entries(SETTING_BOUNDS)) {
    const value = withDefaults[key as keyof typeof SETTING_BOUNDS];
    const checked = schema.safeParse(value);
    if (!checked.success) problems.push(`${key} ${settings[key as keyof typeof SETTING_BOUNDS]} ${checked.error.issues[0].message}`);
  }
  if (!settings.collectionId) problems.push('collectionId is empty');
  if (problems.length) throw new ProcessorSettingsError(`Bad processor settings for camera "${settings.camera}": ${problems.join('; ')}`);
  return { ...withDefaults, faceMatchThreshold: Math.max(MIN_FACE_MATCH_THRESHOLD, settings.faceMatchThreshold) };
}
