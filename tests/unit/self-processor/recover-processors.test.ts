import { recoverProcessors, type RecoveryStore } from '../../../shared/use-cases/recover-processors';
import type { ProcessorStateItem, WorkerEvent } from '../../../shared/use-cases/run-processor-worker';

const NOW = Date.parse('2026-12-07T12:00:00Z');
const item = (camera: string, status: ProcessorStateItem['status'], extra: Partial<ProcessorStateItem> = {}): ProcessorStateItem => ({
  camera,
  status,
  sessionId: `session-${camera}`,
  createdAt: '2026-12-07T10:00:00Z',
  lastChangeAt: '2026-12-07T11:00:00Z',
  ...extra,
});

/** The state table's conditions, in memory: revive needs RUNNING in the session with an expired lease; settleStop STOPPING likewise. */
class MemoryStore implements RecoveryStore {
  constructor(readonly items: Map<string, ProcessorStateItem>) {}
  async get(camera: string) {
    return this.items.get(camera);
  }
  async revive(camera: string, r: { sessionId: string; leaseToken: string; nowMs: number; leaseUntil: number }) {
    const it = this.items.get(camera);
    if (!it || it.status !== 'RUNNING' || it.sessionId !== r.sessionId || (it.leaseUntil !== undefined && it.leaseUntil >= r.nowMs)) return undefined;
    Object.assign(it, { leaseToken: r.leaseToken, leaseClaimed: false, leaseUntil: r.leaseUntil });
    return { ...it };
  }
  async settleStop(camera: string, sessionId: string, nowMs: number) {
    const it = this.items.get(camera);
    if (!it || it.status !== 'STOPPING' || it.sessionId !== sessionId || (it.leaseUntil !== undefined && it.leaseUntil >= nowMs)) return undefined;
    Object.assign(it, { status: 'STOPPED', leaseToken: undefined, leaseClaimed: undefined, leaseUntil: undefined });
    return { ...it };
  }
}

describe('recoverProcessors', () => {
  it('given cameras in every state, when checked, then only a RUNNING one with an expired lease gets a new run (resuming from its checkpoint), and a STOPPING one whose worker died is set STOPPED', async () => {
    // given
    const store = new MemoryStore(
      new Map([
        ['dead', item('dead', 'RUNNING', { leaseToken: 'old', leaseClaimed: true, leaseUntil: NOW - 5_000, cursorMs: NOW - 70_000 })],
        ['alive', item('alive', 'RUNNING', { leaseToken: 'live', leaseClaimed: true, leaseUntil: NOW + 50_000 })],
        ['orphan-stop', item('orphan-stop', 'STOPPING', { leaseToken: 'gone', leaseClaimed: true, leaseUntil: NOW - 1 })],
        ['stopping', item('stopping', 'STOPPING', { leaseToken: 'live', leaseClaimed: true, leaseUntil: NOW + 10_000 })],
        ['stopped', item('stopped', 'STOPPED')],
        ['failed', item('failed', 'FAILED', { statusMessage: 'access denied' })],
      ]),
    );
    const invoked: WorkerEvent[] = [];
    // when
    const recoveries = await recoverProcessors(
      { store, invoker: { invoke: async (e) => void invoked.push(e) }, newToken: () => 'fresh', handOffGraceMs: 120_000 },
      ['dead', 'alive', 'orphan-stop', 'stopping', 'stopped', 'failed', 'never-started'],
      NOW,
    );
    // then
    expect(recoveries).toEqual([
      { camera: 'dead', action: 'restarted', sessionId: 'session-dead', cursorMs: NOW - 70_000, expiredForMs: 5_000 },
      { camera: 'alive', action: 'none' },
      { camera: 'orphan-stop', action: 'stopped', sessionId: 'session-orphan-stop' },
      { camera: 'stopping', action: 'none' },
      { camera: 'stopped', action: 'none' },
      { camera: 'failed', action: 'none' },
      { camera: 'never-started', action: 'none' },
    ]);
    expect(invoked).toEqual([{ camera: 'dead', sessionId: 'session-dead', leaseToken: 'fresh' }]);
    expect(store.items.get('dead')).toMatchObject({ leaseToken: 'fresh', leaseClaimed: false, leaseUntil: NOW + 120_000, cursorMs: NOW - 70_000 });
    expect(store.items.get('orphan-stop')!.status).toBe('STOPPED');
    expect(store.items.get('stopping')!.status).toBe('STOPPING');
  });

  it('given the new run cannot be invoked, when checked, then it says so, and the next check after the grace tries again', async () => {
    const store = new MemoryStore(new Map([['door', item('door', 'RUNNING', { leaseUntil: NOW - 1 })]]));
    let attempts = 0;
    const ports = {
      store,
      invoker: {
        invoke: async () => {
          attempts += 1;
          if (attempts === 1) throw new Error('Rate exceeded');
        },
      },
      newToken: () => `token-${attempts}`,
      handOffGraceMs: 120_000,
    };

    expect(await recoverProcessors(ports, ['door'], NOW)).toEqual([{ camera: 'door', action: 'restart-failed', sessionId: 'session-door', error: 'Rate exceeded' }]);
    // within the grace the handed lease counts as live: no second invocation yet
    expect(await recoverProcessors(ports, ['door'], NOW + 60_000)).toEqual([{ camera: 'door', action: 'none' }]);
    expect((await recoverProcessors(ports, ['door'], NOW + 120_001))[0]).toMatchObject({ action: 'restarted' });
    expect(attempts).toBe(2);
  });
});
