import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { envBool as bool } from '../config';
import { DEFAULT_MIN_FACE_PIXELS, DEFAULT_SEARCH_REFRESH_SECONDS, SETTING_BOUNDS } from '../use-cases/processor-settings';
import { S3FaceSnapshotStore } from '../adapters/face-snapshot-store';
import { FaceSearchRecordSink } from '../adapters/face-search-record-sink';
import { KinesisVideoFrames } from '../adapters/kinesis-video-frames';
import { LambdaWorkerInvoker } from '../adapters/lambda-worker-invoker';
import { ProcessorStateTable } from '../adapters/processor-state-table';
import { RekognitionVisitorFaces } from '../adapters/rekognition-visitor-faces';
import { SharpFaceCropper } from '../adapters/sharp-face-cropper';
import { documents } from '../clients/dynamodb';
import { kinesis } from '../clients/kinesis';
import { archivedMediaAt, kinesisVideo } from '../clients/kinesis-video';
import { lambda } from '../clients/lambda';
import { rekognition } from '../clients/rekognition';
import { s3 } from '../clients/s3';
import { faceAnalyzer } from './face-analyzer';
import { env, loadConfig } from '../config';
import { PermanentInputError } from '../errors';
import { logger } from '../observability';
import { DEFAULT_WORKER_TIMING, type WorkerDependencies, type WorkerTiming } from '../use-cases/run-processor-worker';
import type { ProcessorSettings } from '../use-cases/processor-settings';

/** processVideo's wiring: its environment (one schema) turned into the worker's settings and ports. */

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
  /** Recurring unknown visitors (docs/visitors.md): unknown faces are searched (and indexed) in this collection. */
  PROCESSOR_VISITORS: bool.default(false),
  VISITOR_COLLECTION_ID: z.string().trim().min(1).optional(),
  /** This function's own name, to chain runs; defaults to the Lambda context's. */
  PROCESS_VIDEO_FUNCTION: z.string().trim().min(1).optional(),
  /**
   * Seconds the camera's lease lasts after the run's last sign of life (it renews at least once a second): a run
   * that died is replaced this long after, by checkProcessors or a retry. Lower only for tests.
   */
  PROCESSOR_LEASE_SECONDS: z.coerce.number().int().min(5).max(600).default(DEFAULT_WORKER_TIMING.leaseTtlMs / 1000),
};

/** The worker's settings and ports, from processVideo's environment (parsed once per cold start). */
const config = loadConfig({ ...env.collection, ...env.faceMatchThreshold, ...env.cameraResources, ...env.visitGap, ...processorWorkerEnv });

const store = new ProcessorStateTable(documents, config.PROCESSOR_STATE_TABLE);
const cropper = new SharpFaceCropper();
const analyzer = faceAnalyzer(config.PROCESSOR_FACE_DETECTOR, rekognition);
const snapshots = config.PROCESSOR_SNAPSHOTS && config.FACES_BUCKET ? new S3FaceSnapshotStore(s3, config.FACES_BUCKET) : undefined;
const visitorCollectionId = config.PROCESSOR_VISITORS ? config.VISITOR_COLLECTION_ID : undefined;
const visitors = visitorCollectionId ? new RekognitionVisitorFaces(rekognition) : undefined;

function cameraNames(camera: string) {
  const names = config.CAMERA_RESOURCES[camera];
  if (!names?.dataStream) throw new PermanentInputError(`Camera "${camera}" is not configured in CAMERA_RESOURCES (known: ${Object.keys(config.CAMERA_RESOURCES).join(', ')})`);
  return { videoStream: names.videoStream, dataStream: names.dataStream };
}

export function workerDependencies(functionName: string): WorkerDependencies {
  return {
    store,
    invoker: new LambdaWorkerInvoker(lambda, functionName),
    clock: { now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) },
    newToken: randomUUID,
    settings: (camera): ProcessorSettings => {
      cameraNames(camera);
      return {
        camera,
        collectionId: config.COLLECTION_ID,
        faceMatchThreshold: config.FACE_MATCH_THRESHOLD,
        maxFaces: config.PROCESSOR_MAX_FACES,
        samplingFps: config.PROCESSOR_SAMPLING_FPS,
        searchRefreshSeconds: config.PROCESSOR_SEARCH_REFRESH_SECONDS,
        minFacePixels: config.PROCESSOR_MIN_FACE_PIXELS,
        snapshots: Boolean(snapshots),
        ...(visitorCollectionId ? { visitorCollectionId, visitGapSeconds: config.VISIT_GAP_SECONDS } : {}),
      };
    },
    slice: (camera) => {
      const names = cameraNames(camera);
      return {
        frames: new KinesisVideoFrames(kinesisVideo, archivedMediaAt, { streamName: names.videoStream, domain: config.PROCESSOR_TIMESTAMPS }),
        analyzer,
        cropper,
        sink: new FaceSearchRecordSink(kinesis, names.dataStream),
        snapshots,
        visitors,
      };
    },
    tuning: { concurrency: config.PROCESSOR_CONCURRENCY },
    logger,
  };
}


/** This function's own name for chaining, when the environment names it. */
export const ownFunctionName = config.PROCESS_VIDEO_FUNCTION;

/** The lease and hand-over timing of every run (the slice's length comes from the Lambda's remaining time). */
export const workerTiming: Omit<WorkerTiming, 'sliceMs'> = { ...DEFAULT_WORKER_TIMING, leaseTtlMs: config.PROCESSOR_LEASE_SECONDS * 1000 };
