import { randomUUID } from 'node:crypto';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { loadConfig } from '../config';
import { LambdaWorkerInvoker } from './lambda-worker-invoker';
import { ProcessorStateTable } from './processor-state-table';
import { ProcessorBusyError, type CameraResources, type ProcessorPort, type ProcessorStatus } from './processor-port';
import { DEFAULT_WORKER_TIMING, type ProcessorStateItem, type ProcessorStateStore, type WorkerInvoker } from '../use-cases/run-processor-worker';

export interface SelfProcessorOptions {
  /** Shown by describe before the first run stored its own settings. */
  collectionId?: string;
  faceMatchThreshold?: number;
  now?: () => number;
  newId?: () => string;
  /** How long the first worker run has to claim the camera before a new start may invoke another. */
  handOffGraceMs?: number;
}

/**
 * The `self` processor mode: our own frame sampler (functions/process-video) in place of Rekognition's
 * managed stream processor, behind the same port. Start marks the camera RUNNING in the processor-state
 * table and invokes the worker, which chains itself while RUNNING; stop marks it STOPPING (the worker ends
 * its window and sets STOPPED) or STOPPED when no worker holds the camera.
 */
export class SelfProcessor implements ProcessorPort {
  readonly mode = 'self' as const;
  private readonly now: () => number;
  private readonly newId: () => string;

  constructor(
    private readonly store: ProcessorStateStore,
    private readonly invoker: WorkerInvoker,
    private readonly options: SelfProcessorOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? randomUUID;
  }

  async describe(camera: CameraResources): Promise<ProcessorStatus> {
    const item = await this.store.get(camera.camera);
    return this.status(camera, item);
  }

  async start(camera: CameraResources): Promise<void> {
    const now = this.now();
    const current = await this.store.get(camera.camera);
    if (current && effectiveState(current, now) === 'STOPPING') {
      throw new ProcessorBusyError(camera.camera, `The processor of camera "${camera.camera}" is stopping: start it again once it is STOPPED`);
    }
    const leaseToken = this.newId();
    const { item, started } = await this.store.start(camera.camera, {
      sessionId: this.newId(),
      leaseToken,
      // Like the managed processor, start from live video, not from what the stream already holds.
      cursorMs: now,
      nowMs: now,
      leaseUntil: now + (this.options.handOffGraceMs ?? DEFAULT_WORKER_TIMING.handOffGraceMs),
    });
    if (!started) return;
    try {
      await this.invoker.invoke({ camera: camera.camera, sessionId: item.sessionId, leaseToken });
    } catch (error) {
      await this.store.fail({ camera: camera.camera, sessionId: item.sessionId }, `could not invoke the worker: ${(error as Error).message}`, this.now());
      throw error;
    }
  }

  async stop(camera: CameraResources): Promise<void> {
    await this.store.requestStop(camera.camera, this.now());
  }

  private status(camera: CameraResources, item: ProcessorStateItem | undefined): ProcessorStatus {
    const settings = item?.settings;
    return {
      camera: camera.camera,
      mode: this.mode,
      name: camera.processor,
      // Never started: a self processor exists for every configured camera, stopped.
      state: item ? effectiveState(item, this.now()) : 'STOPPED',
      ...(item?.statusMessage ? { statusMessage: item.statusMessage } : {}),
      ...(item?.lastChangeAt ? { lastChangeAt: item.lastChangeAt } : {}),
      ...(item?.createdAt ? { createdAt: item.createdAt } : {}),
      videoStream: { name: camera.videoStream },
      dataStream: { name: camera.dataStream },
      settings: {
        collectionId: settings?.collectionId ?? this.options.collectionId,
        faceMatchThreshold: settings?.faceMatchThreshold ?? this.options.faceMatchThreshold,
        ...(settings ? { samplingFps: settings.samplingFps, maxFaces: settings.maxFaces, snapshots: settings.snapshots } : {}),
      },
    };
  }
}

/** A STOPPING processor whose worker died (lease expired) has stopped. */
function effectiveState(item: ProcessorStateItem, nowMs: number): ProcessorStateItem['status'] {
  if (item.status === 'STOPPING' && (item.leaseUntil ?? 0) < nowMs) return 'STOPPED';
  return item.status;
}

/** Environment of functions that use the `self` processor port (the API's processor functions). */
export const selfProcessorEnv = {
  PROCESSOR_STATE_TABLE: z.string().trim().min(1),
  PROCESS_VIDEO_FUNCTION: z.string().trim().min(1),
};

/**
 * The `self` port for an API function, from its environment (PROCESSOR_STATE_TABLE, PROCESS_VIDEO_FUNCTION;
 * COLLECTION_ID and FACE_MATCH_THRESHOLD only shown by describe). Throws ConfigError naming what is missing.
 */
export function selfProcessorFromEnv(clients: { documents: DynamoDBDocumentClient; lambda: LambdaClient }, source: NodeJS.ProcessEnv = process.env): SelfProcessor {
  const config = loadConfig({ ...selfProcessorEnv, COLLECTION_ID: z.string().optional(), FACE_MATCH_THRESHOLD: z.coerce.number().optional() }, source);
  return new SelfProcessor(new ProcessorStateTable(clients.documents, config.PROCESSOR_STATE_TABLE), new LambdaWorkerInvoker(clients.lambda, config.PROCESS_VIDEO_FUNCTION), {
    collectionId: config.COLLECTION_ID,
    faceMatchThreshold: config.FACE_MATCH_THRESHOLD,
  });
}
