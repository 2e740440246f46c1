import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { S3FaceSnapshotStore } from '../../shared/adapters/face-snapshot-store';
import { FaceSearchRecordSink } from '../../shared/adapters/face-search-record-sink';
import { KinesisVideoFrames } from '../../shared/adapters/kinesis-video-frames';
import { LambdaWorkerInvoker } from '../../shared/adapters/lambda-worker-invoker';
import { ProcessorStateTable } from '../../shared/adapters/processor-state-table';
import { SharpFaceCropper } from '../../shared/adapters/sharp-face-cropper';
import { documents } from '../../shared/clients/dynamodb';
import { kinesis } from '../../shared/clients/kinesis';
import { archivedMediaAt, kinesisVideo } from '../../shared/clients/kinesis-video';
import { lambda } from '../../shared/clients/lambda';
import { rekognition } from '../../shared/clients/rekognition';
import { s3 } from '../../shared/clients/s3';
import { faceAnalyzer } from '../../shared/composition/face-analyzer';
import { env, loadConfig } from '../../shared/config';
import { PermanentInputError } from '../../shared/errors';
import { logger, metrics } from '../../shared/observability';
import { runProcessorWorker, DEFAULT_WORKER_TIMING, type WorkerDependencies, type WorkerOutcome } from '../../shared/use-cases/run-processor-worker';
import type { ProcessorSettings } from '../../shared/use-cases/processor-settings';
import { processorWorkerEnv } from './settings';

/**
 * The self-managed face-search processor's worker: one run analyses the camera's live video for about its
 * timeout minus a margin, then invokes the next run (asynchronously) while the processor is RUNNING.
 * Invoked by the `self` processor port (POST /processor/start) and by itself; never by anything else.
 */
const config = loadConfig({ ...env.collection, ...env.faceMatchThreshold, ...env.cameraResources, ...processorWorkerEnv });

/** Time kept back from the Lambda timeout to write the last window, hand the lease over and invoke the next run. */
const END_MARGIN_MS = 20_000;

const WorkerEventSchema = z.object({
  camera: z.string().min(1),
  sessionId: z.string().min(1),
  leaseToken: z.string().min(1),
});

const store = new ProcessorStateTable(documents, config.PROCESSOR_STATE_TABLE);
const cropper = new SharpFaceCropper();
const analyzer = faceAnalyzer(config.PROCESSOR_FACE_DETECTOR, rekognition);
const snapshots = config.PROCESSOR_SNAPSHOTS && config.FACES_BUCKET ? new S3FaceSnapshotStore(s3, config.FACES_BUCKET) : undefined;

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
      };
    },
    tuning: { concurrency: config.PROCESSOR_CONCURRENCY },
    logger,
  };
}

export async function handler(event: unknown, context: Pick<Context, 'functionName' | 'getRemainingTimeInMillis'>): Promise<WorkerOutcome | { outcome: 'rejected'; message: string }> {
  const parsed = WorkerEventSchema.safeParse(event);
  if (!parsed.success) {
    // A malformed invocation is nobody's worker run: say why and do not let Lambda retry it.
    const message = `Not a processor worker event: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`;
    logger.error(message);
    return { outcome: 'rejected', message };
  }
  logger.appendKeys({ camera: parsed.data.camera, sessionId: parsed.data.sessionId });
  const outcome = await runProcessorWorker(parsed.data, workerDependencies(config.PROCESS_VIDEO_FUNCTION ?? context.functionName), {
    ...DEFAULT_WORKER_TIMING,
    sliceMs: context.getRemainingTimeInMillis() - END_MARGIN_MS,
  });
  if ('slice' in outcome && outcome.slice) {
    metrics.addDimension('camera', parsed.data.camera);
    metrics.addMetric('FramesAnalysed', 'Count', outcome.slice.framesAnalysed);
    metrics.addMetric('FacesFound', 'Count', outcome.slice.facesFound);
    metrics.addMetric('FacesSearched', 'Count', outcome.slice.facesSearched);
    metrics.addMetric('SearchesReused', 'Count', outcome.slice.searchesReused);
    metrics.addMetric('VideoSkippedSeconds', 'Seconds', outcome.slice.skippedMs / 1000);
    metrics.publishStoredMetrics();
  }
  logger.info('Worker run ended', { outcome: outcome.outcome, ...('slice' in outcome && outcome.slice ? { slice: outcome.slice } : {}) });
  return outcome;
}
