/**
 * The self processor recovers from the death of its worker, on the local stack, with nothing but what runs on
 * AWS: processVideo's lease, checkProcessors on its schedule (run locally as EventBridge runs it, every 3 s here
 * through FACEWATCH_SCHEDULE_SECONDS instead of 5 minutes) and the checkpoint in the processor-state table.
 *  1. the worker's process is killed with SIGKILL mid-window: a new run resumes from the checkpoint and analyses
 *     the rest of the video; every sampled frame gets its record, only the frames after the last checkpoint are
 *     written twice, and each face's sighting is stored once;
 *  2. the whole stack is stopped and started again while the processor runs behind live video (slowed by an
 *     injected latency): it resumes from its checkpoint (the video that arrived before the stop is analysed
 *     after it), then analyses live video again;
 *  3. a stop asked once the dead worker's lease expired ends STOPPED at once.
 * The lease lasts 10 s here (processVideo's PROCESSOR_LEASE_SECONDS, 60 by default) so that the test is short.
 * One stack for the file; the tests build on each other, in order.
 */
import '../support/quiet-logs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { MARCO, STRANGERS } from '../../local/demo/cast';
import { sleep, StackClient, type ProcessorView } from '../../local/demo/harness';
import { buildVideo } from '../../local/demo/video';
import type { PidFile } from '../../local/stack/lifecycle';
import { LOCAL_CREDENTIALS, startLocalStack, type LocalStack } from '../../local/stack/stack';
import type { CfnTemplate } from '../../local/stack/template';
import { decodeFaceSearchRecord, type FaceSearchRecord } from '../../shared/domain/face-search-record';
import { sightingsFromRecord } from '../../shared/domain/sighting';
import type { ProcessorStateItem } from '../../shared/use-cases/run-processor-worker';
import { frameCoverage, frameKey, listVideoFragments, serverFrameMs } from '../support/frame-coverage';

jest.setTimeout(300_000);

const CAMERA = 'front-door';
const LEASE_SECONDS = 10;
const SCHEDULE_SECONDS = 3;
/** 5 frames/s sampled from a 10 frames/s video. */
const COVERAGE = { intervalMs: 200, frameMs: 100 };

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(500);
  }
}

describe('the self processor after its worker dies (local stack, checkProcessors on its schedule)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-e2e-recovery-'));
  const videoFile = path.join(dataDir, 'walk-by.mp4');
  const shortVideo = path.join(dataDir, 'short.mp4');
  const scheduleBefore = process.env.FACEWATCH_SCHEDULE_SECONDS;
  let stack: LocalStack;
  let client: StackClient;
  let processor: ProcessorView;
  let startedAt: number;
  const open = () =>
    startLocalStack({
      dataDir,
      port: 0,
      apiPort: 0,
      mailPort: 0,
      quiet: true,
      print: () => undefined,
      transformTemplate: (template: CfnTemplate) => {
        (template.Resources.ProcessVideoLambdaFunction.Properties!.Environment as { Variables: Record<string, string> }).Variables.PROCESSOR_LEASE_SECONDS = String(LEASE_SECONDS);
      },
    });
  const aws = () => {
    const config = { region: stack.stackInfo.region, endpoint: stack.endpoint, credentials: LOCAL_CREDENTIALS, requestHandler: new NodeHttpHandler() };
    return { kinesis: new KinesisClient(config), dynamo: new DynamoDBClient(config) };
  };
  const table = (pattern: RegExp) => Object.entries(stack.stackInfo.resources).find(([id, r]) => r.type === 'AWS::DynamoDB::Table' && pattern.test(id))![1].ref;
  const state = async () =>
    (await DynamoDBDocumentClient.from(aws().dynamo).send(new GetCommand({ TableName: table(/^ProcessorStateTable$/), Key: { camera: CAMERA }, ConsistentRead: true }))).Item as ProcessorStateItem;

  /** Every record of the camera's data stream, in stream order. */
  async function records(): Promise<FaceSearchRecord[]> {
    const { kinesis } = aws();
    const streamName = processor.dataStream.name!;
    const out: FaceSearchRecord[] = [];
    const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
    for (const shard of Shards) {
      let { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }));
      for (let i = 0; ShardIterator && i < 1000; i++) {
        const page = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }));
        for (const r of page.Records ?? []) out.push(decodeFaceSearchRecord(Buffer.from(r.Data!).toString('base64')));
        if (!page.Records?.length && (page.MillisBehindLatest ?? 0) === 0) break;
        ShardIterator = page.NextShardIterator;
      }
    }
    return out;
  }

  /** What the processor left out of the video the stream holds since `fromMs` (tests/support/frame-coverage.ts). */
  async function coverage(fromMs: number) {
    const fragments = await listVideoFragments({ ...stack, region: stack.stackInfo.region, credentials: LOCAL_CREDENTIALS }, processor.videoStream.name!, fromMs, Date.now() + 60_000);
    // One session throughout: its cursor is on the grid the processor samples by.
    const c = frameCoverage((await records()).map(serverFrameMs), fragments, { ...COVERAGE, gridMs: (await state()).cursorMs!, fromMs });
    return c;
  }

  /** The local endpoint's injected faults (local/gateway/faults.ts). */
  async function setFaults(rules: unknown[]): Promise<void> {
    const response = await fetch(`${stack.endpoint}/_facewatch/faults`, { method: 'PUT', body: JSON.stringify({ rules }) });
    if (!response.ok) throw new Error(`setting faults: HTTP ${response.status} ${await response.text()}`);
  }

  const workerPid = () => {
    const file = JSON.parse(fs.readFileSync(path.join(dataDir, 'stack.pid'), 'utf8')) as PidFile;
    return file.children.find((c) => c.what === `function ${stack.stackInfo.functions.ProcessVideoLambdaFunction.name}`)?.pid;
  };
  /** Kills the worker's process with SIGKILL (as Lambda's sandbox dies: no handler runs). */
  async function killWorker(): Promise<number> {
    const pid = await eventually('the worker process', async () => workerPid(), 30_000);
    process.kill(pid, 'SIGKILL');
    await eventually('the worker to be gone', async () => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    }, 10_000);
    await sleep(500); // a request it had sent is answered by now
    return pid;
  }

  beforeAll(async () => {
    process.env.FACEWATCH_SCHEDULE_SECONDS = String(SCHEDULE_SECONDS);
    const [started] = await Promise.all([
      open(),
      buildVideo(
        [
          { durationSec: 4, faces: [MARCO.onCamera[0]] },
          { durationSec: 4, faces: [STRANGERS[0]] },
          { durationSec: 4, faces: [MARCO.onCamera[1 % MARCO.onCamera.length], STRANGERS[1]] },
        ],
        videoFile,
      ),
      buildVideo([{ durationSec: 5, faces: [STRANGERS[0]] }], shortVideo),
    ]);
    stack = started;
    client = new StackClient({ ...stack, dataDir, region: stack.stackInfo.region, credentials: LOCAL_CREDENTIALS });
    processor = await client.processor(CAMERA);
  });

  afterAll(async () => {
    if (scheduleBefore === undefined) delete process.env.FACEWATCH_SCHEDULE_SECONDS;
    else process.env.FACEWATCH_SCHEDULE_SECONDS = scheduleBefore;
    await stack?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs checkProcessors on its schedule, as EventBridge does', () => {
    // every rate rule of the template runs (the daily visitor expiry too), each at the shortened interval
    expect(stack.stackInfo.schedules).toEqual([
      { rule: expect.stringMatching(/^ExpireVisitors/), expression: 'rate(1 day)', intervalSeconds: SCHEDULE_SECONDS, targets: ['ExpireVisitorsLambdaFunction'] },
      { rule: expect.stringMatching(/^CheckProcessors/), expression: 'rate(5 minutes)', intervalSeconds: SCHEDULE_SECONDS, targets: ['CheckProcessorsLambdaFunction'] },
    ]);
  });

  it('given a worker killed with SIGKILL mid-window, then a new run resumes from the checkpoint and analyses the rest: every frame has its record, each sighting is stored once', async () => {
    // given: the processor analyses a 12 s video as it arrives
    startedAt = Date.now();
    expect((await client.startProcessor(CAMERA)).state).toBe('RUNNING');
    const streaming = client.streamFile(processor.videoStream.name!, videoFile);
    await eventually('the first records', async () => ((await records()).length >= 10 ? true : undefined), 90_000);

    // when: its process is killed mid-window
    await killWorker();
    const atKill = await state();
    const writtenBeforeKill = await records();
    expect(atKill).toMatchObject({ status: 'RUNNING', leaseClaimed: true });
    expect(writtenBeforeKill.length).toBeLessThan(40); // most of the video is still to come

    // then: once its lease expired, checkProcessors starts a new run of the same session, which goes on from the checkpoint
    await streaming;
    const done = await eventually(
      'every frame of the video analysed',
      async () => {
        const c = await coverage(startedAt);
        // 12 s of video at 5 frames/s, less the samples that fall between fragments
        return c.missing === 0 && c.expected >= 50 ? c : undefined;
      },
      120_000,
    );
    expect(done).toMatchObject({ missing: 0, gaps: [] });
    const after = await state();
    expect(after).toMatchObject({ status: 'RUNNING', sessionId: atKill.sessionId, leaseClaimed: true });
    expect(after.leaseToken).not.toBe(atKill.leaseToken);
    expect(after.cursorMs!).toBeGreaterThan(atKill.cursorMs!);

    // It resumed at the checkpoint, not earlier: only frames after the checkpoint the dead run took were analysed
    // again (its last window's records), and the first record of the new run is the frame at the checkpoint's
    // sample time (or at the next one, when that time falls between two fragments).
    const all = await records();
    const resumed = all.slice(writtenBeforeKill.length);
    expect(Math.min(...resumed.map(serverFrameMs))).toBeGreaterThanOrEqual(atKill.cursorMs! - COVERAGE.frameMs);
    expect(Math.min(...resumed.map(serverFrameMs))).toBeLessThanOrEqual(atKill.cursorMs! + COVERAGE.intervalMs);
    const twice = [...new Set(resumed.map(frameKey))].filter((key) => writtenBeforeKill.some((r) => frameKey(r) === key));
    for (const r of all.filter((x) => twice.includes(frameKey(x)))) expect(serverFrameMs(r)).toBeGreaterThanOrEqual(atKill.cursorMs! - COVERAGE.frameMs);

    // Each face of each frame is one sighting (deterministic ids), stored once, however often its record was written.
    const expected = new Set(all.flatMap((r) => sightingsFromRecord(r, CAMERA, { faceMatchThreshold: 85.5, retentionDays: 30 }).map((s) => s.sightingId)));
    expect(expected.size).toBeGreaterThan(20);
    const stored = await eventually(
      'the sightings of every record',
      async () => {
        const ids: string[] = [];
        let key: Record<string, any> | undefined;
        do {
          const page = await aws().dynamo.send(new ScanCommand({ TableName: table(/^SightingsTable$/), ProjectionExpression: 'sightingId', ExclusiveStartKey: key }));
          ids.push(...(page.Items ?? []).map((item) => item.sightingId.S!));
          key = page.LastEvaluatedKey;
        } while (key);
        return ids.length >= expected.size ? ids : undefined;
      },
      60_000,
    );
    expect(new Set(stored)).toEqual(expected);
    expect(stored).toHaveLength(expected.size);
  });

  it('given a stack restart while the processor runs behind live video, then it resumes from its checkpoint: the video that came before the stop is analysed after it, then live video', async () => {
    // given: video streams while the processor is slowed down (GetImages answers 2.5 s late: it analyses about
    // 1 s of video every 2.5 s and falls behind), and the stack stops in the middle of it
    const from = Date.now();
    await setFaults([{ service: 'kinesisvideo', operation: 'getImages', rate: 0, latencyMs: 2_500 }]);
    const camera = new AbortController();
    const streaming = client.streamFile(processor.videoStream.name!, videoFile, camera.signal).catch(() => undefined);
    await eventually('records of the new video', async () => ((await coverage(from)).analysed >= 5 ? true : undefined), 60_000);
    await sleep(4_000);
    const behind = await coverage(from);
    expect(behind.missing).toBeGreaterThan(5); // video the stream holds and the processor has not analysed yet
    await stack.stop();
    camera.abort();
    await streaming;

    // when: it starts again on the same data (on other free ports, with no fault)
    stack = await open();
    client = new StackClient({ ...stack, dataDir, region: stack.stackInfo.region, credentials: LOCAL_CREDENTIALS });
    const atStart = await state();
    expect(atStart).toMatchObject({ status: 'RUNNING' });
    const writtenBeforeStop = await records();

    // then: a new run claims the camera and analyses what the stream got before the stop, from the checkpoint on
    await eventually(
      'a new run holding the camera',
      async () => {
        const now = await state();
        // (the check may have handed the lease on already when atStart was read: then that token is the new run's)
        return now.leaseClaimed && (now.leaseToken !== atStart.leaseToken || !atStart.leaseClaimed) ? now : undefined;
      },
      90_000,
    );
    const caughtUp = await eventually(
      'the video from before the stop analysed',
      async () => {
        const c = await coverage(from);
        return c.missing === 0 ? c : undefined;
      },
      60_000,
    );
    expect(caughtUp.gaps).toEqual([]);
    expect(caughtUp.expected).toBeGreaterThanOrEqual(behind.expected);
    const resumed = (await records()).slice(writtenBeforeStop.length);
    expect(resumed.length).toBeGreaterThan(5);
    expect(Math.min(...resumed.map(serverFrameMs))).toBeGreaterThanOrEqual(atStart.cursorMs! - COVERAGE.frameMs);
    expect(Math.min(...resumed.map(serverFrameMs))).toBeLessThanOrEqual(atStart.cursorMs! + COVERAGE.intervalMs);

    // and live video again
    const liveFrom = Date.now();
    await client.streamFile(processor.videoStream.name!, shortVideo);
    const live = await eventually(
      'the live video analysed',
      async () => {
        const c = await coverage(liveFrom);
        return c.expected >= 18 && c.missing === 0 ? c : undefined;
      },
      60_000,
    );
    expect(live.gaps).toEqual([]);
    expect((await coverage(from)).missing).toBe(0);
  });

  it('given a worker that died, when a stop is asked once its lease expired, then the processor is STOPPED at once and writes nothing more', async () => {
    // given
    await killWorker();
    const dead = await state();
    expect(dead.status).toBe('RUNNING');
    await sleep(Math.max(0, dead.leaseUntil! - Date.now()) + 100);

    // when
    const asked = Date.now();
    await client.api('POST', `/processor/stop?camera=${encodeURIComponent(CAMERA)}`);

    // then: no live worker had to see STOPPING (a run started meanwhile by the check is stopped as it claims or at its next window)
    const view = await client.waitForState(CAMERA, ['STOPPED'], 5_000);
    expect(view.state).toBe('STOPPED');
    expect(Date.now() - asked).toBeLessThan(5_000);
    const settled = await eventually('STOPPED in the state table', async () => ((await state()).status === 'STOPPED' ? true : undefined), 5_000);
    expect(settled).toBe(true);
    const atStop = (await records()).length;
    await sleep(2 * SCHEDULE_SECONDS * 1000 + 1_000);
    expect((await records()).length).toBe(atStop);
    expect((await state()).status).toBe('STOPPED');
  });
});
