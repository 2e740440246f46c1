import { randomUUID } from 'node:crypto';
import type { Camera } from '../domain/camera';
import { ProcessorBusyError, type ProcessorPort, type ProcessorStatus } from '../use-cases/processor';
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

  async describe(camera: Camera): Promise<ProcessorStatus> {
    const item = await this.store.get(camera.camera);
    return this.status(camera, item);
  }

  async start(camera: Camera): Promise<void> {
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

  async stop(camera: Camera): Promise<void> {
    await this.store.requestStop(camera.camera, this.now());
  }

  private status(camera: Camera, item: ProcessorStateItem | undefined): ProcessorStatus {
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
      ...progressOf(item),
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

/** Where the worker got to at its last checkpoint: the last analysed frame and how far behind live it was. */
function progressOf(item: ProcessorStateItem | undefined): Pick<ProcessorStatus, 'lastFrameAt' | 'lagSeconds' | 'framesAnalysed'> {
  if (!item) return {};
  return {
    ...(item.lastFrameMs !== undefined ? { lastFrameAt: new Date(item.lastFrameMs).toISOString() } : {}),
    ...(item.lastFrameMs !== undefined && item.checkpointAt !== undefined
      ? { lagSeconds: Math.max(0, Math.round((item.checkpointAt - item.lastFrameMs) / 100) / 10) }
      : {}),
    ...(item.framesAnalysed !== undefined ? { framesAnalysed: item.framesAnalysed } : {}),
  };
}

/** A STOPPING processor whose worker died (lease expired) has stopped. */
function effectiveState(item: ProcessorStateItem, nowMs: number): ProcessorStateItem['status'] {
  if (item.status === 'STOPPING' && (item.leaseUntil ?? 0) < nowMs) return 'STOPPED';
  return item.status;
}
