import { z } from 'zod';
import { envBool as bool } from '../../shared/config';
import { DEFAULT_MIN_FACE_PIXELS, DEFAULT_SEARCH_REFRESH_SECONDS, SETTING_BOUNDS } from '../../shared/use-cases/processor-settings';

/** Environment of the processor worker (serverless.yml, function processVideo). */
export const processorWorkerEnv = {
  PROCESSOR_STATE_TABLE: z.string().trim().min(1),
  /** Frames analysed per second of video; GetImages samples at most every 200 ms. */
  PROCESSOR_SAMPLING_FPS: z.coerce.number().pipe(SETTING_BOUNDS.samplingFps).default(5),
  /** Who finds the faces: `local` (the worker's own detector) or `rekognition` (DetectFaces on every analysed frame). */
  PROCESSOR_FACE_DETECTOR: z.enum(['local', 'rekognition']).default('local'),
  /** Faces narrower than this many pixels are recorded unmatched, not searched. */
  PROCESSOR_MIN_FACE_PIXELS: z.coerce.number().pipe(SETTING_BOUNDS.minFacePixels).default(DEFAULT_MIN_FACE_PIXELS),
  /** Seconds a face that stays in view reuses its last SearchFacesByImage result (0 = search every face of every frame). */
  PROCESSOR_SEARCH_REFRESH_SECONDS: z.coerce.number().pipe(SETTING_BOUNDS.searchRefreshSeconds).default(DEFAULT_SEARCH_REFRESH_SECONDS),
  /** Matches kept per face (SearchFacesByImage MaxFaces). */
  PROCESSOR_MAX_FACES: z.coerce.number().pipe(SETTING_BOUNDS.maxFaces).default(5),
  /** Frames analysed at once. */
  PROCESSOR_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(4),
  PROCESSOR_TIMESTAMPS: z.enum(['SERVER_TIMESTAMP', 'PRODUCER_TIMESTAMP']).default('SERVER_TIMESTAMP'),
  PROCESSOR_SNAPSHOTS: bool.default(true),
  /** Where snapshots go (snapshots/<camera>/...). Without it no snapshot is kept. */
  FACES_BUCKET: z.string().trim().min(1).optional(),
  /** This function's own name, to chain runs; defaults to the Lambda context's. */
  PROCESS_VIDEO_FUNCTION: z.string().trim().min(1).optional(),
};
