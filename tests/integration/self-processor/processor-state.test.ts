import { ProcessorStateTable } from '../../../shared/adapters/processor-state-table';
import { SelfProcessor } from '../../../shared/adapters/self-processor';
import type { WorkerEvent } from '../../../shared/use-cases/run-processor-worker';
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
