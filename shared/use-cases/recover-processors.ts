import { DEFAULT_WORKER_TIMING, type ProcessorStateItem, type ProcessorStateStore, type WorkerInvoker } from './run-processor-worker';

/**
 * Repairs the self processor's chains of worker runs, camera by camera (checkProcessors, on its schedule):
 *  - a RUNNING camera whose lease expired has no live worker (a run died mid-window, was killed, timed out, or
 *    its hand-over invocation was lost): a new run is invoked, which resumes from the camera's checkpoint
 *    (`cursorMs`, `lastFrameMs`);
 *  - a STOPPING camera whose lease expired has nobody left to see the stop: it is set STOPPED.
 * Every change is a conditional write on the state the camera was read in, and the new run must still claim the
 * lease it is handed: a worker that is alive (its lease live), a start or a stop meanwhile, or a second check
 * running at the same time make the write fail, so one camera never gets two workers.
 */

export interface RecoveryStore extends Pick<ProcessorStateStore, 'get'> {
  /** Hands an expired lease of a RUNNING processor (in that session) to a new, not yet claimed token. */
  revive(camera: string, r: { sessionId: string; leaseToken: string; nowMs: number; leaseUntil: number }): Promise<ProcessorStateItem | undefined>;
  /** STOPPING → STOPPED in that session, if its lease expired. */
  settleStop(camera: string, sessionId: string, nowMs: number): Promise<ProcessorStateItem | undefined>;
}

export interface RecoveryPorts {
  store: RecoveryStore;
  invoker: WorkerInvoker;
  newToken(): string;
  /** How long the new run has to claim its lease (default: the worker's hand-over grace). */
  handOffGraceMs?: number;
}

export type Recovery =
  | { camera: string; action: 'none' }
  /** A new worker run was invoked; it resumes from `cursorMs`. */
  | { camera: string; action: 'restarted'; sessionId: string; cursorMs?: number; expiredForMs: number }
  | { camera: string; action: 'stopped'; sessionId: string }
  /** The new run could not be invoked: its lease expires after the grace, and the next check tries again. */
  | { camera: string; action: 'restart-failed'; sessionId: string; error: string };

/** True when nobody holds the lease any more: never given, or past its end. */
export function leaseExpired(item: Pick<ProcessorStateItem, 'leaseUntil'>, nowMs: number): boolean {
  return item.leaseUntil === undefined || item.leaseUntil < nowMs;
}

export async function recoverProcessors(ports: RecoveryPorts, cameras: readonly string[], nowMs: number): Promise<Recovery[]> {
  const grace = ports.handOffGraceMs ?? DEFAULT_WORKER_TIMING.handOffGraceMs;
  return Promise.all(
    cameras.map(async (camera): Promise<Recovery> => {
      const item = await ports.store.get(camera);
      if (!item || !leaseExpired(item, nowMs)) return { camera, action: 'none' };
      if (item.status === 'STOPPING') {
        const stopped = await ports.store.settleStop(camera, item.sessionId, nowMs);
        return stopped ? { camera, action: 'stopped', sessionId: item.sessionId } : { camera, action: 'none' };
      }
      if (item.status !== 'RUNNING') return { camera, action: 'none' };
      const { sessionId, leaseUntil: expiredAt } = item;
      const leaseToken = ports.newToken();
      const revived = await ports.store.revive(camera, { sessionId, leaseToken, nowMs, leaseUntil: nowMs + grace });
      if (!revived) return { camera, action: 'none' };
      try {
        await ports.invoker.invoke({ camera, sessionId, leaseToken });
      } catch (error) {
        return { camera, action: 'restart-failed', sessionId, error: (error as Error).message };
      }
      return { camera, action: 'restarted', sessionId, cursorMs: revived.cursorMs, expiredForMs: nowMs - (expiredAt ?? nowMs) };
    }),
  );
}
