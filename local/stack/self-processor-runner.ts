/**
 * The self-managed face-search processor, run continuously in one process for the offline twin: the same
 * analyse-video-slice loop the worker Lambda runs (shared/use-cases/analyse-video-slice.ts), slice after
 * slice, with the checkpoint kept in memory. Two uses:
 *  - the local Rekognition's stream processor runner hook (`managedProcessorRunner`): a started managed
 *    processor analyses its Kinesis Video stream exactly as the `self` mode does, so `processorMode: managed`
 *    against the twin behaves as on AWS;
 *  - any local caller that wants a camera analysed without the worker's lease table (`runSelfProcessor`).
 * Nothing here creates a client: ports and clients come in as arguments.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import type { KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media';
import type { RekognitionClient } from '@aws-sdk/client-rekognition';
import type { S3Client } from '@aws-sdk/client-s3';
import { S3FaceSnapshotStore } from '../../shared/adapters/face-snapshot-store';
import { FaceSearchRecordSink } from '../../shared/adapters/face-search-record-sink';
import { KinesisVideoFrames } from '../../shared/adapters/kinesis-video-frames';
import { RekognitionVisitorFaces } from '../../shared/adapters/rekognition-visitor-faces';
import { faceAnalyzer, type FaceDetectorChoice } from '../../shared/composition/face-analyzer';
import { SharpFaceCropper } from '../../shared/adapters/sharp-face-cropper';
import type { TimestampDomain } from '../../shared/domain/frame-analysis';
import { videoStreamName } from '../../shared/domain/sighting';
import { analyseVideoSlice, type SliceResult } from '../../shared/use-cases/analyse-video-slice';
import { type Clock, type SliceDependencies, type SliceLogger } from '../../shared/use-cases/processor-ports';
import { type ProcessorSettings, type SliceTuning } from '../../shared/use-cases/processor-settings';

export type SlicePorts = Omit<SliceDependencies, 'progress' | 'clock' | 'logger'>;

export interface RunSelfProcessorOptions {
  settings: ProcessorSettings;
  ports: SlicePorts;
  /** Aborting stops the loop after the current window (nothing is written after the abort is seen). */
  signal: AbortSignal;
  clock?: Clock;
  /** Where to start in the video (epoch ms on the source's clock). Default: now, as a processor starts live. */
  startMs?: number;
  /** Length of each slice; the checkpoint is in memory, so this only bounds one analyseVideoSlice call. */
  sliceMs?: number;
  tuning?: Partial<SliceTuning>;
  logger?: SliceLogger;
  /** Called after each slice (progress reports, tests). */
  onSlice?: (result: SliceResult) => void;
}

const realClock: Clock = { now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

/**
 * Runs until `signal` aborts (seen within about a second, or after the window being analysed); rejects with the slice's error (e.g. ProcessorFailure) if the processor fails. */
export async function runSelfProcessor(options: RunSelfProcessorOptions): Promise<void> {
  const clock = options.clock ?? realClock;
  let cursorMs = options.startMs ?? clock.now();
  let lastFrameMs: number | undefined;
  const alive = async () => !options.signal.aborted;
  while (!options.signal.aborted) {
    const result = await analyseVideoSlice(
      { settings: options.settings, cursorMs, lastFrameMs, deadlineMs: clock.now() + (options.sliceMs ?? 60_000), tuning: options.tuning },
      { ...options.ports, clock, logger: options.logger, progress: { renew: alive, checkpoint: alive } },
    );
    cursorMs = result.cursorMs;
    lastFrameMs = result.lastFrameMs;
    options.onSlice?.(result);
  }
}

// ---------- ports from SDK clients ----------

export interface ProcessorClients {
  kinesisVideo: KinesisVideoClient;
  archivedMediaAt: (endpoint: string) => KinesisVideoArchivedMediaClient;
  rekognition: RekognitionClient;
  kinesis: KinesisClient;
  /** With a bucket: keep face snapshots there. */
  s3?: S3Client;
  snapshotBucket?: string;
  /** Who finds the faces (processorFaceDetector); default local, as a deployment's. */
  faceDetector?: FaceDetectorChoice;
}

/** The slice's ports for one camera, over the given clients (the same adapters the worker Lambda uses). */
export function slicePorts(clients: ProcessorClients, names: { videoStream: string; dataStream: string; domain?: TimestampDomain }): SlicePorts {
  return {
    frames: new KinesisVideoFrames(clients.kinesisVideo, clients.archivedMediaAt, { streamName: names.videoStream, domain: names.domain }),
    analyzer: faceAnalyzer(clients.faceDetector ?? 'local', clients.rekognition),
    cropper: new SharpFaceCropper(),
    sink: new FaceSearchRecordSink(clients.kinesis, names.dataStream),
    // Used only when the settings name a visitors collection (the self mode's; a managed processor has none).
    visitors: new RekognitionVisitorFaces(clients.rekognition),
    ...(clients.s3 && clients.snapshotBucket ? { snapshots: new S3FaceSnapshotStore(clients.s3, clients.snapshotBucket) } : {}),
  };
}

// ---------- the local Rekognition's stream processor runner hook ----------

/** Structural copy of local/rekognition/stream-processors.ts's runner types (kept decoupled from that module). */
export interface ManagedProcessorRecord {
  Name: string;
  Input?: { KinesisVideoStream?: { Arn?: string } };
  Output?: { KinesisDataStream?: { Arn?: string } };
  Settings?: { FaceSearch?: { CollectionId?: string; FaceMatchThreshold?: number } };
}
export interface ManagedRunnerContext {
  sessionId: string;
  fail(message: string): void;
}

export interface ManagedRunnerOptions {
  clients: ProcessorClients;
  /** Camera name of a video stream (snapshots are filed per camera); default: the stream's name. */
  cameraOf?: (videoStreamName: string) => string;
  samplingFps?: number;
  /** Default DEFAULT_SEARCH_REFRESH_SECONDS, as a deployment's. */
  searchRefreshSeconds?: number;
  maxFaces?: number;
  tuning?: Partial<SliceTuning>;
  logger?: SliceLogger;
}

/** `arn:aws:kinesis:<region>:<account>:stream/<name>` → `<name>`. */
export function dataStreamName(arn: string): string {
  const at = arn.indexOf(':stream/');
  return at < 0 ? arn : arn.slice(at + ':stream/'.length);
}

/**
 * A runner for the local Rekognition's stream processors: start launches the loop over the processor's
 * input and output streams with its FaceSearch settings; stop aborts it and resolves once it has ended.
 */
export function managedProcessorRunner(options: ManagedRunnerOptions) {
  const running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  return {
    start(processor: Readonly<ManagedProcessorRecord>, ctx: ManagedRunnerContext): void {
      const videoArn = processor.Input?.KinesisVideoStream?.Arn;
      const dataArn = processor.Output?.KinesisDataStream?.Arn;
      const faceSearch = processor.Settings?.FaceSearch;
      if (!videoArn || !dataArn || !faceSearch?.CollectionId) {
        ctx.fail('The processor needs a Kinesis Video input, a Kinesis Data output and FaceSearch settings');
        return;
      }
      const video = videoStreamName(videoArn);
      const abort = new AbortController();
      const done = runSelfProcessor({
        settings: {
          camera: options.cameraOf?.(video) ?? video,
          collectionId: faceSearch.CollectionId,
          faceMatchThreshold: faceSearch.FaceMatchThreshold ?? 80,
          maxFaces: options.maxFaces ?? 5,
          samplingFps: options.samplingFps ?? 5,
          ...(options.searchRefreshSeconds !== undefined ? { searchRefreshSeconds: options.searchRefreshSeconds } : {}),
          snapshots: Boolean(options.clients.s3 && options.clients.snapshotBucket),
        },
        ports: slicePorts(options.clients, { videoStream: video, dataStream: dataStreamName(dataArn) }),
        signal: abort.signal,
        tuning: options.tuning,
        logger: options.logger,
      }).catch((error: Error) => {
        if (!abort.signal.aborted) ctx.fail(error.message);
      });
      running.set(processor.Name, { abort, done });
    },
    async stop(processor: Readonly<ManagedProcessorRecord>): Promise<void> {
      const run = running.get(processor.Name);
      if (!run) return;
      running.delete(processor.Name);
      run.abort.abort();
      await run.done;
    },
  };
}
