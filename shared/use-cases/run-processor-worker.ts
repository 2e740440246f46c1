import { ProcessorFailure } from './processor-errors';
import { analyseVideoSlice, type SliceResult } from './analyse-video-slice';
import { type Clock, type SliceDependencies, type SliceLogger } from './processor-ports';
import { type ProcessorSettings, type SliceTuning } from './processor-settings';

/**
 * One run of the self-managed processor's worker for one camera: take the camera's lease, analyse video
 * until the time budget is spent, then hand the lease to the next run and invoke it, for as long as the
 * processor is RUNNING. The lease guarantees one worker per camera: a duplicate or stale invocation finds
 * the lease taken and returns without touching the video.
 */

export type SelfProcessorStatus = 'RUNNING' | 'STOPPING' | 'STOPPED' | 'FAILED';

export type StoredSettings = Omit<ProcessorSettings, 'camera'>;

/** processor-state table item (key: camera). */
export interface ProcessorStateItem {
  camera: string;
  status: SelfProcessorStatus;
  /** Changes at every start: runs of an older session can never write again. */
  sessionId: string;
  statusMessage?: string;
  createdAt: string;
  lastChangeAt: string;
  /** Next sample time in the video (epoch ms on the frame source's clock). */
  cursorMs?: number;
  lastFrameMs?: number;
  framesAnalysed?: number;
  /** Epoch ms of the last checkpoint: a RUNNING camera whose checkpoint stops moving has lost its chain of runs. */
  checkpointAt?: number;
  /** Who may run: the token of the worker run holding (claimed) or about to hold (handed off) the camera. */
  leaseToken?: string;
  leaseClaimed?: boolean;
  /** Epoch ms after which anyone of the session may take the lease over (its holder died). */
  leaseUntil?: number;
  settings?: StoredSettings;
}

export interface Lease {
  camera: string;
  sessionId: string;
  token: string;
}

export interface ProcessorStateStore {
  get(camera: string): Promise<ProcessorStateItem | undefined>;
  /**
   * A new session (from STOPPED, FAILED or nothing), or a new worker for a RUNNING session whose lease
   * expired (its chain broke). `started` says whether a worker must now be invoked with `leaseToken`.
   */
  start(camera: string, start: { sessionId: string; leaseToken: string; cursorMs: number; nowMs: number; leaseUntil: number; settings?: StoredSettings }): Promise<{ item: ProcessorStateItem; started: boolean }>;
  /** RUNNING → STOPPING (a worker holds the lease) or STOPPED (none does). Undefined when there is no item. */
  requestStop(camera: string, nowMs: number): Promise<ProcessorStateItem | undefined>;
  /** Takes the lease if it was handed to `token` or expired; undefined when someone else holds it or the session ended. */
  claim(lease: Lease, nowMs: number, leaseUntil: number, settings: StoredSettings): Promise<ProcessorStateItem | undefined>;
  /** True while RUNNING in this session with this lease held. */
  renew(lease: Lease, nowMs: number, leaseUntil: number): Promise<boolean>;
  checkpoint(lease: Lease, progress: { cursorMs: number; lastFrameMs?: number; framesAnalysed: number }, nowMs: number, leaseUntil: number): Promise<boolean>;
  /** Passes the lease to the next run (not yet claimed); false when the processor was stopped meanwhile. */
  handOff(lease: Lease, nextToken: string, nowMs: number, leaseUntil: number): Promise<boolean>;
  /** Gives the lease up; a STOPPING processor becomes STOPPED. */
  release(lease: Lease, nowMs: number): Promise<void>;
  fail(lease: Pick<Lease, 'camera' | 'sessionId'>, message: string, nowMs: number): Promise<void>;
}

export interface WorkerEvent {
  camera: string;
  sessionId: string;
  leaseToken: string;
}

export interface WorkerInvoker {
  invoke(event: WorkerEvent): Promise<void>;
}

export interface WorkerTiming {
  /** Wall-clock time this run may analyse video (e.g. the Lambda's remaining time minus a margin). */
  sliceMs: number;
  /**
   * How long the lease lasts after each sign of life (the claim, every renewal and checkpoint: at least once a
   * second while the run works or waits for video). A run that dies loses the camera this long after its last
   * one; then checkProcessors (or a retry of the invocation) may start another run, which resumes from the
   * checkpoint.
   */
  leaseTtlMs: number;
  /** How long the next run has to claim a handed-off lease before it counts as expired. */
  handOffGraceMs: number;
}

export const DEFAULT_WORKER_TIMING: Omit<WorkerTiming, 'sliceMs'> = { leaseTtlMs: 60_000, handOffGraceMs: 120_000 };

export interface WorkerDependencies {
  store: ProcessorStateStore;
  invoker: WorkerInvoker;
  clock: Clock;
  newToken(): string;
  settings(camera: string): ProcessorSettings;
  /** The video, Rekognition, the data stream and snapshots of one camera. */
  slice(camera: string): Omit<SliceDependencies, 'progress' | 'clock' | 'logger'>;
  tuning?: Partial<SliceTuning>;
  logger?: SliceLogger;
}

export type WorkerOutcome =
  | { outcome: 'not-claimed' }
  | { outcome: 'chained'; slice: SliceResult; nextToken: string }
  | { outcome: 'stopped'; slice: SliceResult }
  | { outcome: 'failed'; message: string; slice?: SliceResult };

export async function runProcessorWorker(event: WorkerEvent, deps: WorkerDependencies, timing: WorkerTiming): Promise<WorkerOutcome> {
  const { store, clock, logger } = deps;
  const lease: Lease = { camera: event.camera, sessionId: event.sessionId, token: event.leaseToken };
  const startedAt = clock.now();
  const deadlineMs = startedAt + Math.max(0, timing.sliceMs);
  /** The lease runs leaseTtlMs from each sign of life: a run that died is replaced soon, whatever its slice. */
  const leaseFrom = (nowMs: number) => nowMs + timing.leaseTtlMs;

  let settings: ProcessorSettings;
  try {
    settings = deps.settings(event.camera);
  } catch (error) {
    await store.fail(lease, (error as Error).message, clock.now());
    return { outcome: 'failed', message: (error as Error).message };
  }
  const { camera: _camera, ...stored } = settings;
  const claimed = await store.claim(lease, startedAt, leaseFrom(startedAt), stored);
  if (!claimed) {
    logger?.info('Lease not claimed: another worker runs this camera, or the processor stopped', { camera: event.camera, sessionId: event.sessionId });
    return { outcome: 'not-claimed' };
  }

  let slice: SliceResult;
  let framesAnalysed = claimed.framesAnalysed ?? 0;
  try {
    slice = await analyseVideoSlice(
      {
        settings,
        cursorMs: claimed.cursorMs ?? startedAt,
        lastFrameMs: claimed.lastFrameMs,
        deadlineMs,
        tuning: deps.tuning,
      },
      {
        ...deps.slice(event.camera),
        clock,
        logger,
        progress: {
          renew: () => {
            const now = clock.now();
            return store.renew(lease, now, leaseFrom(now));
          },
          // Each checkpoint counts its window's frames; the state keeps the processor's total.
          checkpoint: (progress) => {
            const now = clock.now();
            framesAnalysed += progress.framesAnalysed;
            return store.checkpoint(lease, { ...progress, framesAnalysed }, now, leaseFrom(now));
          },
        },
      },
    );
  } catch (error) {
    if (error instanceof ProcessorFailure) {
      await store.fail(lease, error.message, clock.now());
      return { outcome: 'failed', message: error.message };
    }
    // Anything else (a crash): give the lease back so a retry of this invocation can take over at once.
    await store.release(lease, clock.now()).catch(() => undefined);
    throw error;
  }

  if (slice.ended === 'stopped') {
    await store.release(lease, clock.now());
    return { outcome: 'stopped', slice };
  }
  const nextToken = deps.newToken();
  const now = clock.now();
  if (!(await store.handOff(lease, nextToken, now, now + timing.handOffGraceMs))) {
    await store.release(lease, now);
    return { outcome: 'stopped', slice };
  }
  try {
    await deps.invoker.invoke({ camera: event.camera, sessionId: event.sessionId, leaseToken: nextToken });
  } catch (error) {
    const message = `could not invoke the next worker run: ${(error as Error).message}`;
    await store.fail(lease, message, clock.now());
    return { outcome: 'failed', message, slice };
  }
  return { outcome: 'chained', slice, nextToken };
}
