import type { ProcessorStateItem, ProcessorStateStore } from './run-processor-worker';

/** How long a camera's processor has gone without progress: 0 unless it is RUNNING. */
export interface ProcessorHealth {
  camera: string;
  status: ProcessorStateItem['status'] | 'NONE';
  /** Seconds since the last checkpoint (or the start, before the first one); 0 when not RUNNING. */
  stalledSeconds: number;
}

/**
 * The health of each camera's chain of processVideo runs. A run checkpoints every few seconds of video; a
 * RUNNING camera whose checkpoint stops moving has lost its chain (a run that died before handing over, an
 * invoke that was refused), which the ProcessorChainStalled alarm reports.
 */
export async function checkProcessors(store: Pick<ProcessorStateStore, 'get'>, cameras: readonly string[], nowMs: number): Promise<ProcessorHealth[]> {
  return Promise.all(
    cameras.map(async (camera) => {
      const item = await store.get(camera);
      if (!item) return { camera, status: 'NONE' as const, stalledSeconds: 0 };
      if (item.status !== 'RUNNING') return { camera, status: item.status, stalledSeconds: 0 };
      const since = Math.max(item.checkpointAt ?? 0, Date.parse(item.lastChangeAt) || 0);
      return { camera, status: item.status, stalledSeconds: Math.max(0, Math.round((nowMs - since) / 1000)) };
    }),
  );
}
