import { ProcessorStateTable } from '../../../shared/adapters/processor-state-table';
import { SelfProcessor } from '../../../shared/adapters/self-processor';
import type { WorkerEvent } from '../../../shared/use-cases/run-processor-worker';
import { recoverProcessors } from '../../../shared/use-cases/recover-processors';
import { createTables, startLocalAws, type LocalAws } from '../../support/local-aws';

const camera = { camera: 'front-door', videoStream: 'facewatch-state-front-door', dataStream: 'facewatch-state-front-door-face-search', processor: 'facewatch-state-front-door' };
const stored = { collectionId: 'faces', faceMatchThreshold: 85.5, maxFaces: 5, samplingFps: 5, snapshots: true };

describe('self processor state (DynamoDB, conditional writes)', () => {
  let aws: LocalAws;
  let table: ProcessorStateTable;
  let now: number;
  let ids: number;
  let invoked: WorkerEvent[];
  let processor: SelfProcessor;

  beforeAll(async () => {
    aws = await startLocalAws({ dynamodb: true });
    const names = await createTables(aws.dynamodb, 'state');
    table = new ProcessorStateTable(aws.documents, names.ProcessorStateTable);
  });
  afterAll(() => aws.stop());

  beforeEach(() => {
    now = 1_700_000_000_000 + Math.floor(Math.random() * 1e9);
    ids = 0;
    invoked = [];
    processor = new SelfProcessor(table, { invoke: async (e) => void invoked.push(e) }, { now: () => now, newId: () => `id-${(ids += 1)}`, collectionId: 'faces', faceMatchThreshold: 85.5 });
    camera.camera = `cam-${now}`;
  });

  it('start marks RUNNING and invokes one worker; starting again is a no-op', async () => {
    // When the processor is started twice
    await processor.start(camera);
    await processor.start(camera);

    // Then one worker was invoked and it is RUNNING with its settings
    expect(invoked).toHaveLength(1);
    expect(await processor.describe(camera)).toMatchObject({ camera: camera.camera, mode: 'self', state: 'RUNNING', settings: { collectionId: 'faces', faceMatchThreshold: 85.5 } });
  });

  it('lets exactly one of two workers with the same invocation claim the camera', async () => {
    // Given a started processor and its invocation delivered twice (at-least-once), at the same time
    await processor.start(camera);
    const [event] = invoked;
    const lease = { camera: event.camera, sessionId: event.sessionId, token: event.leaseToken };

    // When both deliveries try to claim
    const claims = await Promise.all([table.claim(lease, now, now + 60_000, stored), table.claim(lease, now, now + 60_000, stored)]);

    // Then one holds the camera, the other gets nothing
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('hands the lease to the next run only, and lets nobody else in while it is live', async () => {
    // Given the started processor's lease claimed by its first run
    await processor.start(camera);
    const [event] = invoked;
    const first = { camera: event.camera, sessionId: event.sessionId, token: event.leaseToken };
    expect(await table.claim(first, now, now + 60_000, stored)).toBeDefined();

    // When a stale or foreign run claims the live lease, then it cannot; the holder checkpoints
    expect(await table.claim({ ...first, token: 'intruder' }, now + 1000, now + 60_000, stored)).toBeUndefined();
    expect(await table.checkpoint(first, { cursorMs: now + 5000, framesAnalysed: 25 }, now + 5000, now + 60_000)).toBe(true);
    // and says when, for the stalled-chain check
    expect(await table.get(first.camera)).toMatchObject({ cursorMs: now + 5000, checkpointAt: now + 5000 });

    // When the holder hands off, then it loses its rights and the next run gets them
    expect(await table.handOff(first, 'next', now + 50_000, now + 170_000)).toBe(true);
    expect(await table.renew(first, now + 50_001, now + 60_000)).toBe(false);
    const next = { ...first, token: 'next' };
    const claimed = await table.claim(next, now + 50_100, now + 950_000, stored);
    expect(claimed).toMatchObject({ cursorMs: now + 5000, framesAnalysed: 25, leaseToken: 'next', leaseClaimed: true });
    // and a duplicate of the next run's invocation finds it taken
    expect(await table.claim(next, now + 50_200, now + 950_000, stored)).toBeUndefined();
  });

  it('lets a retry take over an expired lease (the holder died)', async () => {
    // Given the started processor's lease claimed until now + 60 s
    await processor.start(camera);
    const [event] = invoked;
    const lease = { camera: event.camera, sessionId: event.sessionId, token: event.leaseToken };
    await table.claim(lease, now, now + 60_000, stored);

    // When a retry claims it after it expired, then the retry holds it and the old holder can no longer checkpoint
    expect(await table.claim({ ...lease, token: 'retry' }, now + 60_001, now + 900_000, stored)).toMatchObject({ leaseToken: 'retry' });
    expect(await table.checkpoint(lease, { cursorMs: now, framesAnalysed: 0 }, now + 60_002, now + 900_000)).toBe(false);
  });

  it('stop makes the running worker stop (STOPPING, then STOPPED when it releases), and a start meanwhile is refused', async () => {
    // Given a running worker holding the camera
    await processor.start(camera);
    const [event] = invoked;
    const lease = { camera: event.camera, sessionId: event.sessionId, token: event.leaseToken };
    await table.claim(lease, now, now + 60_000, stored);

    // When the processor is stopped, then it is STOPPING: the worker cannot renew, and a start is refused
    await processor.stop(camera);
    expect((await processor.describe(camera)).state).toBe('STOPPING');
    expect(await table.renew(lease, now + 1, now + 60_000)).toBe(false);
    await expect(processor.start(camera)).rejects.toThrow('is stopping');

    // When the worker releases the camera, then it is STOPPED
    await table.release(lease, now + 2);
    expect((await processor.describe(camera)).state).toBe('STOPPED');

    // When it is started again, then it is a new session: the old run's lease can never write again
    await processor.start(camera);
    expect(invoked).toHaveLength(2);
    expect(invoked[1].sessionId).not.toBe(event.sessionId);
    expect(await table.claim(lease, now + 100_000_000, now + 100_060_000, stored)).toBeUndefined();
  });

  it('stops at once when no worker holds the camera, and describes a never-started camera as STOPPED', async () => {
    // Given a never-started camera, then it is STOPPED; once started, its first run never claims
    expect((await processor.describe(camera)).state).toBe('STOPPED');
    await processor.start(camera);
    now += 10 * 60_000; // the first run never claimed: its hand-off grace is over
    // When it is stopped, then it is STOPPED at once
    await processor.stop(camera);
    expect((await processor.describe(camera)).state).toBe('STOPPED');
  });

  it('restarts a RUNNING processor whose chain broke (expired lease) on start', async () => {
    // Given a RUNNING processor whose lease expired 10 minutes ago
    await processor.start(camera);
    now += 10 * 60_000;
    // When it is started
    await processor.start(camera);
    // Then a new run of the same session is invoked with a new lease
    expect(invoked).toHaveLength(2);
    expect(invoked[1].sessionId).toBe(invoked[0].sessionId);
    expect(invoked[1].leaseToken).not.toBe(invoked[0].leaseToken);
  });
});

describe('recovering a broken chain (checkProcessors) over the real conditional writes', () => {
  let aws: LocalAws;
  let table: ProcessorStateTable;
  let now: number;
  let ids: number;
  let invoked: WorkerEvent[];
  let processor: SelfProcessor;
  const ttl = 60_000;
  const recover = (at: number) => recoverProcessors({ store: table, invoker: { invoke: async (e) => void invoked.push(e) }, newToken: () => `new-${(ids += 1)}` }, [camera.camera], at);

  beforeAll(async () => {
    aws = await startLocalAws({ dynamodb: true });
    const names = await createTables(aws.dynamodb, 'recover');
    table = new ProcessorStateTable(aws.documents, names.ProcessorStateTable);
  });
  afterAll(() => aws.stop());

  beforeEach(() => {
    now = 1_700_000_000_000 + Math.floor(Math.random() * 1e9);
    ids = 0;
    invoked = [];
    processor = new SelfProcessor(table, { invoke: async (e) => void invoked.push(e) }, { now: () => now, newId: () => `id-${(ids += 1)}` });
    camera.camera = `cam-${now}`;
  });

  /** A started processor whose first run claimed the camera and checkpointed once, then died (no more renewals). */
  async function runThatDied() {
    await processor.start(camera);
    const [event] = invoked;
    const dead = { camera: event.camera, sessionId: event.sessionId, token: event.leaseToken };
    expect(await table.claim(dead, now, now + ttl, stored)).toBeDefined();
    expect(await table.checkpoint(dead, { cursorMs: now + 8_000, lastFrameMs: now + 7_800, framesAnalysed: 40 }, now + 8_000, now + 8_000 + ttl)).toBe(true);
    return dead;
  }

  it('leaves a live worker alone, and once its lease expired invokes one new run that resumes from the checkpoint; the dead run can never write again', async () => {
    const dead = await runThatDied();

    // While its lease is live, nothing happens (the worker may just be slow)
    expect(await recover(now + 8_000 + ttl - 1)).toEqual([{ camera: camera.camera, action: 'none' }]);
    expect(invoked).toHaveLength(1);

    // Once expired: one new run, same session, a new token, resuming from the checkpoint
    const at = now + 8_000 + ttl + 1;
    const [first, second] = await Promise.all([recover(at), recover(at)]);
    expect([first[0].action, second[0].action].sort()).toEqual(['none', 'restarted']);
    expect(invoked).toHaveLength(2);
    const next = invoked[1];
    expect(next).toMatchObject({ camera: camera.camera, sessionId: dead.sessionId });
    expect(next.leaseToken).not.toBe(dead.token);
    const claimed = await table.claim({ camera: next.camera, sessionId: next.sessionId, token: next.leaseToken }, at + 500, at + 500 + ttl, stored);
    expect(claimed).toMatchObject({ cursorMs: now + 8_000, lastFrameMs: now + 7_800, framesAnalysed: 40, leaseClaimed: true });

    // The run that was thought dead cannot write, and a repeat of the new run's invocation cannot claim
    expect(await table.renew(dead, at + 600, at + 600 + ttl)).toBe(false);
    expect(await table.checkpoint(dead, { cursorMs: now + 9_000, framesAnalysed: 45 }, at + 600, at + 600 + ttl)).toBe(false);
    expect(await table.claim({ camera: next.camera, sessionId: next.sessionId, token: next.leaseToken }, at + 700, at + 700 + ttl, stored)).toBeUndefined();
    // and the new worker's live lease is left alone by the next check
    expect(await recover(at + 1_000)).toEqual([{ camera: camera.camera, action: 'none' }]);
  });

  it('a stop on a processor whose worker died (lease expired) ends STOPPED at once, and nothing is restarted', async () => {
    await runThatDied();
    now += 8_000 + ttl + 1;

    await processor.stop(camera);

    expect(await table.get(camera.camera)).toMatchObject({ status: 'STOPPED' });
    expect(await recover(now + 1)).toEqual([{ camera: camera.camera, action: 'none' }]);
    expect(invoked).toHaveLength(1);
  });

  it('a stop during a hand-over (the lease passed on, not yet claimed) ends STOPPED at once: no worker would see STOPPING', async () => {
    const dead = await runThatDied();
    expect(await table.handOff(dead, 'next', now + 9_000, now + 9_000 + 120_000)).toBe(true);

    now += 9_500;
    await processor.stop(camera);

    expect(await table.get(camera.camera)).toMatchObject({ status: 'STOPPED' });
    expect(await table.claim({ ...dead, token: 'next' }, now + 1, now + 1 + ttl, stored)).toBeUndefined();
  });

  it('a STOPPING processor whose worker died before seeing the stop is set STOPPED by the check', async () => {
    await runThatDied();
    now += 10_000;
    await processor.stop(camera); // the lease is still live: STOPPING, waiting for a worker that is gone
    expect(await table.get(camera.camera)).toMatchObject({ status: 'STOPPING' });

    const recoveries = await recover(now + ttl);

    expect(recoveries).toEqual([{ camera: camera.camera, action: 'stopped', sessionId: invoked[0].sessionId }]);
    expect(await table.get(camera.camera)).toMatchObject({ status: 'STOPPED' });
    expect(invoked).toHaveLength(1);
  });

  it('never touches a session started meanwhile: the repair is conditional on the session it read', async () => {
    const dead = await runThatDied();
    const at = now + 8_000 + ttl + 1;
    // A new session since (stopped and started again), whose first run has not claimed yet and whose grace ran out
    now = at;
    await processor.stop(camera);
    await processor.start(camera);
    const fresh = invoked[1];
    expect(fresh.sessionId).not.toBe(dead.sessionId);

    expect(await table.revive(camera.camera, { sessionId: dead.sessionId, leaseToken: 'late', nowMs: at + 10 * 60_000, leaseUntil: at + 10 * 60_000 + 120_000 })).toBeUndefined();
    expect(await table.settleStop(camera.camera, dead.sessionId, at + 10 * 60_000)).toBeUndefined();
    expect(await table.get(camera.camera)).toMatchObject({ status: 'RUNNING', sessionId: fresh.sessionId, leaseToken: fresh.leaseToken });
  });
});
