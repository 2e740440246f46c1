import { runProcessorWorker, type Lease, type ProcessorStateItem, type ProcessorStateStore, type WorkerDependencies, type WorkerEvent } from '../../../shared/use-cases/run-processor-worker';
import type { ProcessorSettings } from '../../../shared/use-cases/processor-settings';
import { CollectingSink, FakeAnalyzer, FakeCropper, FakeFrameSource, VirtualClock } from '../../support/self-processor-fakes';

const START = 1_700_000_000_000;
const settings: ProcessorSettings = { camera: 'front-door', collectionId: 'faces', faceMatchThreshold: 85.5, maxFaces: 1, samplingFps: 5, snapshots: false };

/** Records what the worker asks of the state table; `claimable` and `stopAfterCheckpoints` script its answers. */
class ScriptedStore implements ProcessorStateStore {
  readonly calls: string[] = [];
  constructor(private readonly script: { claimable: boolean; stopAfterCheckpoints?: number }) {}
  private checkpoints = 0;
  async get() {
    return undefined;
  }
  async start(): Promise<never> {
    throw new Error('not used');
  }
  async requestStop() {
    return undefined;
  }
  async claim(lease: Lease): Promise<ProcessorStateItem | undefined> {
    this.calls.push(`claim:${lease.token}`);
    if (!this.script.claimable) return undefined;
    return { camera: lease.camera, status: 'RUNNING', sessionId: lease.sessionId, createdAt: '', lastChangeAt: '', cursorMs: START, leaseToken: lease.token, leaseClaimed: true };
  }
  async renew() {
    return this.checkpoints < (this.script.stopAfterCheckpoints ?? Infinity);
  }
  async checkpoint() {
    if (this.checkpoints >= (this.script.stopAfterCheckpoints ?? Infinity)) return false;
    this.checkpoints += 1;
    return true;
  }
  async handOff(lease: Lease, next: string) {
    this.calls.push(`handOff:${lease.token}->${next}`);
    return true;
  }
  async release(lease: Lease) {
    this.calls.push(`release:${lease.token}`);
  }
  async fail(_lease: Pick<Lease, 'camera' | 'sessionId'>, message: string) {
    this.calls.push(`fail:${message}`);
  }
}

function deps(store: ProcessorStateStore) {
  const clock = new VirtualClock(START);
  const frames = new FakeFrameSource({
    arn: 'arn:aws:kinesisvideo:us-east-1:1:stream/s/1',
    producerStartMs: START,
    fragmentMs: 1000,
    serverSkewMs: 0,
    videoFps: 25,
    liveUntil: () => clock.ms,
    facesAt: () => [],
  });
  const sink = new CollectingSink();
  const invoked: WorkerEvent[] = [];
  const dependencies: WorkerDependencies = {
    store,
    invoker: { invoke: async (event) => void invoked.push(event) },
    clock,
    newToken: () => 'next-token',
    settings: (camera) => ({ ...settings, camera }),
    slice: () => ({ frames, analyzer: new FakeAnalyzer(), cropper: new FakeCropper(), sink }),
  };
  return { dependencies, sink, invoked, frames };
}

const event: WorkerEvent = { camera: 'front-door', sessionId: 'session-1', leaseToken: 'token-1' };
const timing = { sliceMs: 5_000, leaseTtlMs: 60_000, handOffGraceMs: 120_000 };

describe('runProcessorWorker', () => {
  it('analyses its slice, hands the lease to the next run and invokes it', async () => {
    // given
    const store = new ScriptedStore({ claimable: true });
    const { dependencies, sink, invoked } = deps(store);

    // when
    const outcome = await runProcessorWorker(event, dependencies, timing);

    // then
    expect(outcome.outcome).toBe('chained');
    expect(sink.records.length).toBeGreaterThan(0);
    expect(store.calls).toEqual(['claim:token-1', 'handOff:token-1->next-token']);
    expect(invoked).toEqual([{ camera: 'front-door', sessionId: 'session-1', leaseToken: 'next-token' }]);
  });

  it('does nothing when another worker holds the camera (the lease is not claimable)', async () => {
    // given
    const store = new ScriptedStore({ claimable: false });
    const { dependencies, sink, invoked, frames } = deps(store);

    // when
    const outcome = await runProcessorWorker(event, dependencies, timing);

    // then
    expect(outcome).toEqual({ outcome: 'not-claimed' });
    expect(frames.getFramesCalls).toHaveLength(0);
    expect(sink.records).toHaveLength(0);
    expect(invoked).toHaveLength(0);
  });

  it('stops chaining once the processor is stopped', async () => {
    // given
    const store = new ScriptedStore({ claimable: true, stopAfterCheckpoints: 1 });
    const { dependencies, invoked } = deps(store);

    // when
    const outcome = await runProcessorWorker(event, dependencies, timing);

    // then
    expect(outcome.outcome).toBe('stopped');
    expect(store.calls).toEqual(['claim:token-1', 'release:token-1']);
    expect(invoked).toHaveLength(0);
  });

  it('holds the lease only leaseTtlMs past each sign of life (claim, renewals, checkpoints), so that a run that dies is replaced soon', async () => {
    // A store that notes when each sign of life came and how long it asked the lease to last
    class LeaseNotingStore extends ScriptedStore {
      readonly leases: { kind: string; nowMs: number; untilMs: number }[] = [];
      readonly totals: number[] = [];
      override async claim(lease: Lease, nowMs?: number, untilMs?: number) {
        this.leases.push({ kind: 'claim', nowMs: nowMs!, untilMs: untilMs! });
        return super.claim(lease);
      }
      override async renew(_lease?: Lease, nowMs?: number, untilMs?: number) {
        this.leases.push({ kind: 'renew', nowMs: nowMs!, untilMs: untilMs! });
        return super.renew();
      }
      override async checkpoint(_lease?: Lease, progress?: { framesAnalysed: number }, nowMs?: number, untilMs?: number) {
        this.leases.push({ kind: 'checkpoint', nowMs: nowMs!, untilMs: untilMs! });
        this.totals.push(progress!.framesAnalysed);
        return super.checkpoint();
      }
    }
    const store = new LeaseNotingStore({ claimable: true });
    const { dependencies } = deps(store);

    const outcome = await runProcessorWorker(event, dependencies, { ...timing, sliceMs: 30_000, leaseTtlMs: 10_000 });

    expect(store.leases.map((l) => l.kind)).toEqual(expect.arrayContaining(['claim', 'renew', 'checkpoint']));
    for (const l of store.leases) expect(l.untilMs - l.nowMs).toBe(10_000);
    // a sign of life at least every few seconds, well within the lease, over the 30 s slice
    const times = store.leases.map((l) => l.nowMs);
    expect(Math.max(...times.slice(1).map((t, i) => t - times[i]))).toBeLessThan(5_000);
    expect(times.at(-1)! - times[0]).toBeGreaterThan(25_000);
    // and each checkpoint stores the run's running total of frames analysed, not its window's
    expect(store.totals.length).toBeGreaterThan(5);
    expect(store.totals.at(-1)).toBe(outcome.outcome === 'chained' ? outcome.slice.framesAnalysed : NaN);
    for (let i = 1; i < store.totals.length; i++) expect(store.totals[i]).toBeGreaterThan(store.totals[i - 1]);
  });

  it('marks the processor FAILED with the reason when the next run cannot be invoked', async () => {
    // given
    const store = new ScriptedStore({ claimable: true });
    const { dependencies } = deps(store);
    dependencies.invoker = { invoke: async () => Promise.reject(new Error('Rate exceeded')) };

    // when
    const outcome = await runProcessorWorker(event, dependencies, timing);

    // then
    expect(outcome).toMatchObject({ outcome: 'failed', message: 'could not invoke the next worker run: Rate exceeded' });
    expect(store.calls.at(-1)).toBe('fail:could not invoke the next worker run: Rate exceeded');
  });
});
