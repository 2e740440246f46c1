/**
 * `npm run test:faults`: nothing lost under faults, against a running local stack (started here, in a temp data
 * dir, with four cameras). Not part of `npm test`: it runs for minutes.
 *
 * Four cameras stream seed-shaped face-search records (tests/fixtures/face-search-records.ts: 0–3 faces each,
 * three people and strangers) into their data streams at --fps records per second each, ≥ 10,000 in all, while
 * faults are injected in turn, one phase each:
 *   1. DynamoDB throttled on 30 % of calls for 30 s (ProvisionedThroughputExceededException, local endpoint);
 *   2. SNS Publish failing on 50 % of calls (InternalFailure);
 *   3. kill -9 of the consumer's function process mid-batch (twice);
 *   4. a stack restart while the cameras stream (stop, start on the same data dir; records put meanwhile wait).
 * Then it waits for the consumer to catch up and counts, against what was sent:
 *   lost        sightings expected (one per face of every record) and not in the sightings table, plus the
 *               frames of phase 0's video that never got a record (sampled at 5 frames/s; a frame the killed
 *               worker analysed but the new run analysed again counts once: tests/support/frame-coverage.ts);
 *   duplicated  sightings in the table that no record sent (the table is keyed by sighting id, so a record
 *               consumed twice cannot add a second copy: this is the check that it did not);
 *   alerts_lost alerts the cooldown rule expects (replayed over the expected sightings in frame order) that
 *               were not published, beyond the documented guarantee: an alert whose publish was cut by a crash
 *               stays `sending` and is not retried (docs/reliability.md), so those are counted apart;
 *   alerts_doubled published alerts beyond one per expected alert (same sighting twice, or one the rule holds);
 *   max_lag_s   the largest time from a record's put to its mapping's checkpoint passing it.
 * Last line: `faults: lost=… duplicated=… alerts_lost=… alerts_doubled=… max_lag_s=… cameras=4 fps_per_camera=…`.
 *   npm run test:faults -- [--records 10000] [--fps 15]
 * First (phase 0) the demo's video streams on the first camera through the self processor and its worker is
 * killed -9 mid-window: checkProcessors (on its schedule, every FACEWATCH_SCHEDULE_SECONDS = 10 s here unless set,
 * instead of 5 minutes) starts a new run once the dead run's lease (60 s) expired, which resumes from the
 * checkpoint; then the processor is stopped.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { decideAlert, evaluateClaim, type AlertClaim } from '../shared/domain/alert-policy';
import type { AlertState } from '../shared/domain/model';
import { frameTimeMs, sightingsFromRecord } from '../shared/domain/sighting';
import type { Sighting } from '../shared/domain/model';
import { ANNA, MARCO, STRANGERS, cropFace, sourcePath } from '../local/demo/cast';
import { OutboxWatcher, sleep, StackClient } from '../local/demo/harness';
import { buildVideo, type Scene } from '../local/demo/video';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import type { FaceSearchRecord } from '../shared/domain/face-search-record';
import { parseFaults } from '../local/gateway/faults';
import type { PidFile } from '../local/stack/lifecycle';
import { LOCAL_CREDENTIALS, startLocalStack, type LocalStack } from '../local/stack/stack';
import { realisticRecords } from '../tests/fixtures/face-search-records';
import { frameCoverage, frameKey, listVideoFragments, serverFrameMs, type Coverage } from '../tests/support/frame-coverage';

const CAMERAS = ['cam-a', 'cam-b', 'cam-c', 'cam-d'];
const COOLDOWN_S = 60;
const THRESHOLD = 85.5;

interface Sent {
  camera: string;
  streamName: string;
  data: Buffer;
  sightings: Sighting[];
  putAt?: number;
  shardId?: string;
  sequenceNumber?: string;
  doneAt?: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { records: { type: 'string', default: '10000' }, fps: { type: 'string', default: '15' } } });
  const total = Math.max(Number(values.records), 100);
  const fps = Number(values.fps);
  const perCamera = Math.ceil(total / CAMERAS.length);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-faults-'));
  // checkProcessors repairs a broken processor chain on its schedule: every 10 s here rather than 5 minutes.
  process.env.FACEWATCH_SCHEDULE_SECONDS ??= '10';
  const params = { cameras: CAMERAS.join(','), alertCooldownSeconds: String(COOLDOWN_S) };
  const open = () => startLocalStack({ dataDir, port: 0, apiPort: 0, mailPort: 0, quiet: true, params, print: (line) => line.startsWith('!') && console.log(line) });
  console.log(`stack in ${dataDir}; ${perCamera * CAMERAS.length} records, ${CAMERAS.length} cameras at ${fps} records/s each`);
  let stack: LocalStack = await open();
  const startedMs = Date.now();
  const service = stack.stackInfo.service;
  const streams = Object.values(stack.stackInfo.resources).filter((r) => r.type === 'AWS::Kinesis::Stream');
  const sightingsTable = Object.entries(stack.stackInfo.resources).find(([id, r]) => r.type === 'AWS::DynamoDB::Table' && /Sightings/.test(id))![1].ref;
  const consumer = Object.values(stack.stackInfo.functions).find((f) => f.handler.includes('consume-face-search'))!;

  // The records: per camera, frame times ending about now (sightings get a TTL from their frame time).
  const startSeconds = Math.floor(Date.now() / 1000) - Math.ceil(perCamera / 10) * 2 - 60;
  const sent: Sent[][] = CAMERAS.map((camera) => {
    const streamName = streams.find((s) => s.ref.endsWith(`-${camera}`) || s.ref.includes(`-${camera}-`))?.ref;
    if (!streamName) throw new Error(`no data stream for ${camera} among ${streams.map((s) => s.ref).join(', ')}`);
    const streamArn = `arn:aws:kinesisvideo:${stack.stackInfo.region}:${stack.stackInfo.accountId}:stream/${service}-local-${camera}/1700000000000`;
    return realisticRecords(perCamera, { streamArn, start: startSeconds }).map((record) => ({
      camera,
      streamName,
      data: Buffer.from(JSON.stringify(record)),
      sightings: sightingsFromRecord(record, camera, { faceMatchThreshold: THRESHOLD, retentionDays: 30 }),
    }));
  });
  const all = sent.flat();

  const clients = () => {
    const config = { region: stack.stackInfo.region, endpoint: stack.endpoint, credentials: LOCAL_CREDENTIALS, requestHandler: new NodeHttpHandler() };
    return { kinesis: new KinesisClient(config), dynamo: new DynamoDBClient(config) };
  };
  let aws = clients();

  // Lag: a record is done when its mapping's checkpoint (<dataDir>/event-source-mappings/*.json) passes it.
  const mappingsDir = path.join(dataDir, 'event-source-mappings');
  let maxLagMs = 0;
  const pending = new Set<Sent>();
  const checkLag = () => {
    if (!fs.existsSync(mappingsDir)) return;
    const finished = new Map<string, bigint>();
    for (const file of fs.readdirSync(mappingsDir).filter((f) => f.endsWith('.json'))) {
      try {
        const checkpoint = JSON.parse(fs.readFileSync(path.join(mappingsDir, file), 'utf8')) as { streamArn: string; shards: Record<string, string> };
        const name = checkpoint.streamArn.split('/').pop()!;
        for (const [shard, seq] of Object.entries(checkpoint.shards)) finished.set(`${name}/${shard}`, BigInt(seq));
      } catch {
        // being rewritten
      }
    }
    const now = Date.now();
    for (const record of pending) {
      const done = finished.get(`${record.streamName}/${record.shardId}`);
      if (done !== undefined && BigInt(record.sequenceNumber!) <= done) {
        record.doneAt = now;
        maxLagMs = Math.max(maxLagMs, now - record.putAt!);
        pending.delete(record);
      }
    }
  };
  const lagTimer = setInterval(checkLag, 250);

  /** Puts the next `count` records of every camera at `fps` per camera; `during` runs alongside. */
  let cursor = 0;
  async function stream(count: number, during?: () => Promise<void>): Promise<void> {
    const end = Math.min(cursor + count, perCamera);
    const side = during?.();
    const tick = 200;
    const perTick = Math.max(1, Math.round((fps * tick) / 1000));
    while (cursor < end) {
      const started = Date.now();
      const upTo = Math.min(end, cursor + perTick);
      await Promise.all(
        sent.map(async (records) => {
          const slice = records.slice(cursor, upTo);
          for (let attempt = 0; ; attempt += 1) {
            try {
              const { Records } = await aws.kinesis.send(
                new PutRecordsCommand({ StreamName: slice[0].streamName, Records: slice.map((r) => ({ Data: r.data, PartitionKey: r.camera })) }),
              );
              const at = Date.now();
              Records!.forEach((result, i) => Object.assign(slice[i], { putAt: at, shardId: result.ShardId, sequenceNumber: result.SequenceNumber }));
              slice.forEach((r) => pending.add(r));
              return;
            } catch (error) {
              // The camera buffers while the stack restarts, as a producer with retries does.
              if (attempt > 600) throw error;
              await sleep(100);
            }
          }
        }),
      );
      cursor = upTo;
      await sleep(Math.max(0, tick - (Date.now() - started)));
    }
    await side;
  }

  const consumerPid = () => {
    try {
      const file = JSON.parse(fs.readFileSync(path.join(dataDir, 'stack.pid'), 'utf8')) as PidFile;
      return file.children.find((c) => c.what === `function ${consumer.name}`)?.pid;
    } catch {
      return undefined;
    }
  };
  const killConsumer = async () => {
    for (let i = 0; i < 100; i += 1) {
      const pid = consumerPid();
      if (pid) {
        process.kill(pid, 'SIGKILL');
        console.log(`  killed the consumer's process (pid ${pid}) with SIGKILL`);
        return;
      }
      await sleep(50);
    }
    console.log('  (the consumer had no process to kill)');
  };

  const phase = (name: string) => console.log(`${((Date.now() - startedMs) / 1000).toFixed(0).padStart(4)} s  ${name}`);
  const share = Math.floor(perCamera / 5);

  // 0. The demo's video through the self processor on the first camera, its worker killed -9 mid-window.
  const videoCamera = CAMERAS[0];
  const videoFile = path.join(dataDir, 'faults.mp4');
  const scenes: Scene[] = [
    { durationSec: 5, faces: [MARCO.onCamera[0]] },
    { durationSec: 5, faces: [STRANGERS[0], ANNA.onCamera[0]] },
    { durationSec: 5, faces: [MARCO.onCamera[1 % MARCO.onCamera.length], STRANGERS[1]] },
    { durationSec: 5, faces: [ANNA.onCamera[0]] },
  ];
  const videoSeconds = scenes.reduce((n, sc) => n + sc.durationSec, 0);
  const processVideo = Object.values(stack.stackInfo.functions).find((f) => f.handler.includes('process-video'));
  const videoStreamName = sent[0][0].streamName;
  const isVideoRecord = (rec: FaceSearchRecord) => !rec.InputInformation.KinesisVideo.StreamArn.endsWith('/1700000000000');
  let videoCoverage: Coverage | undefined;
  let videoFrom = 0;
  let videoStreamOfCamera = '';
  let writtenTwice = 0;
  // The processor samples on one grid per session: its checkpointed cursor is on it.
  const processorStateTable = Object.entries(stack.stackInfo.resources).find(([id, r]) => r.type === 'AWS::DynamoDB::Table' && /ProcessorState/.test(id))![1].ref;
  const processorGrid = async () => {
    const { Item } = await aws.dynamo.send(new GetItemCommand({ TableName: processorStateTable, Key: { camera: { S: videoCamera } }, ConsistentRead: true }));
    return Number(Item!.cursorMs.N);
  };
  if (processVideo) {
    phase(`the demo's video (${videoSeconds} s) on ${videoCamera} through the self processor; its worker killed -9 mid-window`);
    await buildVideo(scenes, videoFile);
    const client = new StackClient({ ...stack, dataDir, region: stack.stackInfo.region, credentials: LOCAL_CREDENTIALS });
    const bucket = Object.values(stack.stackInfo.resources).find((r) => r.type === 'AWS::S3::Bucket')!.ref;
    for (const person of [MARCO, ANNA]) {
      const key = await client.uploadFace(bucket, person.name, 'registration.jpg', await cropFace(sourcePath(person.registration.source), person.registration.box));
      await client.waitForFace(person.name, key, 180_000);
    }
    videoFrom = Date.now();
    const processor = await client.startProcessor(videoCamera);
    videoStreamOfCamera = processor.videoStream.name!;
    const streaming = client.streamFile(videoStreamOfCamera, videoFile);
    await sleep(8_000);
    const workerPid = (() => {
      try {
        return (JSON.parse(fs.readFileSync(path.join(dataDir, 'stack.pid'), 'utf8')) as PidFile).children.find((c) => c.what === `function ${processVideo.name}`)?.pid;
      } catch {
        return undefined;
      }
    })();
    const killedAt = Date.now();
    if (workerPid) {
      process.kill(workerPid, 'SIGKILL');
      console.log(`  killed the processor worker (pid ${workerPid}) with SIGKILL`);
    } else console.log('  (no processor worker process to kill)');
    await sleep(500);
    const beforeKill = (await readStream(aws.kinesis, videoStreamName)).filter(isVideoRecord);
    await streaming;
    // The dead run's lease expires (60 s after its last renewal), checkProcessors starts a new run, which
    // resumes from the checkpoint: wait for every frame of the video to have its record (or give up).
    const coverage = async () => {
      const fragments = await listVideoFragments({ endpoint: stack.endpoint, region: stack.stackInfo.region, credentials: LOCAL_CREDENTIALS }, videoStreamOfCamera, videoFrom, Date.now() + 60_000);
      const records = (await readStream(aws.kinesis, videoStreamName)).filter(isVideoRecord);
      return { records, coverage: frameCoverage(records.map(serverFrameMs), fragments, { intervalMs: 200, frameMs: 100, gridMs: await processorGrid(), fromMs: videoFrom }) };
    };
    let resumedAfterS: number | undefined;
    const giveUp = Date.now() + 240_000;
    for (;;) {
      const now = await coverage();
      if (resumedAfterS === undefined && now.records.length > beforeKill.length) resumedAfterS = (Date.now() - killedAt) / 1000;
      videoCoverage = now.coverage;
      if ((now.coverage.missing === 0 && now.coverage.analysed > 0) || Date.now() > giveUp) {
        const before = new Set(beforeKill.map(frameKey));
        writtenTwice = new Set(now.records.slice(beforeKill.length).map(frameKey).filter((key) => before.has(key))).size;
        break;
      }
      await sleep(2_000);
    }
    console.log(
      `  ${beforeKill.length} frames analysed before the kill; a new run resumed from the checkpoint ${resumedAfterS === undefined ? 'never' : `${resumedAfterS.toFixed(0)} s after the kill`}; ` +
        `${videoCoverage.analysed} of ${videoCoverage.expected} sampled frames analysed, ${videoCoverage.missing} lost; ${writtenTwice} frames written twice (after the last checkpoint)`,
    );
    const stopAsked = Date.now();
    await client.api('POST', `/processor/stop?camera=${encodeURIComponent(videoCamera)}`);
    const stopped = await client.waitForState(videoCamera, ['STOPPED', 'FAILED'], 240_000).then(
      (view) => `${view.state} after ${((Date.now() - stopAsked) / 1000).toFixed(1)} s`,
      (error: Error) => `not stopped: ${error.message}`,
    );
    console.log(`  processor stop: ${stopped}`);
  }

  phase('warm-up: no fault');
  await stream(Math.min(share / 2, 200));

  phase('DynamoDB throttled on 30 % of calls for 30 s');
  await setFaults(stack, parseFaults('dynamodb:0.3:ProvisionedThroughputExceededException::30'));
  await stream(Math.max(share, fps * 30));

  phase('SNS Publish failing on 50 % of calls');
  await setFaults(stack, parseFaults('sns.Publish:0.5:InternalFailure'));
  await stream(share);
  await setFaults(stack, []);

  phase('kill -9 of the consumer function process mid-batch (twice)');
  await stream(share, async () => {
    await sleep(2_000);
    await killConsumer();
    await sleep(4_000);
    await killConsumer();
  });

  phase('stack restart while the cameras stream');
  await stream(share, async () => {
    await sleep(3_000);
    const stopping = Date.now();
    await stack.stop();
    stack = await open();
    aws = clients();
    console.log(`  restarted in ${((Date.now() - stopping) / 1000).toFixed(1)} s`);
  });

  phase('no fault: the rest');
  await stream(perCamera);

  phase('waiting for the consumer to catch up');
  const deadline = Date.now() + 300_000;
  while (pending.size && Date.now() < deadline) {
    await sleep(500);
    checkLag();
  }
  await sleep(2_000); // the last alerts' outbox files
  clearInterval(lagTimer);

  // Sightings in the table.
  const stored = new Map<string, number>();
  let startKey: Record<string, any> | undefined;
  do {
    const page = await aws.dynamo.send(new ScanCommand({ TableName: sightingsTable, ProjectionExpression: 'sightingId', ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) stored.set(item.sightingId.S!, (stored.get(item.sightingId.S!) ?? 0) + 1);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  const videoRecords = (await readStream(aws.kinesis, videoStreamName)).filter(isVideoRecord);
  const expected = [...all.flatMap((r) => r.sightings), ...videoRecords.flatMap((rec) => sightingsFromRecord(rec, videoCamera, { faceMatchThreshold: THRESHOLD, retentionDays: 30 }))];
  const expectedIds = new Set(expected.map((s) => s.sightingId));
  const lostSightings = expected.filter((s) => !stored.has(s.sightingId)).length;
  // The video's frames that never got a record, counted again now that the stack restarted (nothing may have come later).
  if (processVideo && videoCoverage) {
    const fragments = await listVideoFragments({ endpoint: stack.endpoint, region: stack.stackInfo.region, credentials: LOCAL_CREDENTIALS }, videoStreamOfCamera, videoFrom, Date.now());
    videoCoverage = frameCoverage(videoRecords.map(serverFrameMs), fragments, { intervalMs: 200, frameMs: 100, gridMs: await processorGrid(), fromMs: videoFrom });
  }
  const lostFrames = videoCoverage?.missing ?? 0;
  const lost = lostSightings + lostFrames;
  const duplicated = [...stored].filter(([id]) => !expectedIds.has(id)).length + [...stored.values()].filter((n) => n > 1).length;

  // Alerts: the cooldown rule replayed over the expected sightings, per person and camera in frame order.
  const settings = { cooldownSeconds: COOLDOWN_S, unknownAlerts: false, unknownCooldownSeconds: 60, watchlistOnly: false };
  const states = new Map<string, Pick<AlertState, 'sightingId' | 'lastAlertAt' | 'status'>>();
  const expectedAlerts = new Set<string>();
  for (const s of [...expected].sort((a, b) => frameTimeMs(a) - frameTimeMs(b))) {
    const decision = decideAlert(s.personId, undefined, settings);
    if (!decision.alert) continue;
    const key = `${s.personId}#${s.camera}`;
    const claim: AlertClaim = { personId: s.personId, camera: s.camera, sightingId: s.sightingId, frameTimeMs: frameTimeMs(s), cooldownMs: decision.cooldownMs };
    if (evaluateClaim(states.get(key), claim) === 'claimed') {
      states.set(key, { sightingId: s.sightingId, lastAlertAt: claim.frameTimeMs, status: 'sent' });
      expectedAlerts.add(s.sightingId);
    }
  }
  const published = new OutboxWatcher(path.join(dataDir, 'outbox'), 0).poll();
  const deliveredIds = published.map((a) => a.sightingId).filter(Boolean) as string[];
  const delivered = new Set(deliveredIds);
  const alertStateTable = Object.entries(stack.stackInfo.resources).find(([id, r]) => r.type === 'AWS::DynamoDB::Table' && /AlertState/.test(id))?.[1].ref;
  const cutByCrash = new Set<string>();
  if (alertStateTable) {
    let key: Record<string, any> | undefined;
    do {
      const page = await aws.dynamo.send(new ScanCommand({ TableName: alertStateTable, ExclusiveStartKey: key }));
      for (const item of page.Items ?? []) if (item.status?.S === 'sending') cutByCrash.add(item.sightingId.S!);
      key = page.LastEvaluatedKey;
    } while (key);
  }
  const missing = [...expectedAlerts].filter((id) => !delivered.has(id));
  const alertsLost = missing.filter((id) => !cutByCrash.has(id)).length;
  const alertsDoubled = deliveredIds.length - [...delivered].filter((id) => expectedAlerts.has(id)).length;
  const maxLagS = maxLagMs / 1000;

  console.log(
    `video: ${videoCoverage?.analysed ?? 0} of ${videoCoverage?.expected ?? 0} sampled frames analysed across the worker's kill (${lostFrames} lost, ${writtenTwice} written twice); ` +
      `sent ${all.length} records (${expected.length} sightings, ${expectedAlerts.size} alerts expected); stored ${stored.size} sightings (${lostSightings} lost); ` +
      `published ${deliveredIds.length} alerts; not published, cut by a crash during Publish (at most once, documented): ${missing.length - alertsLost}; ` +
      `records not done: ${pending.size}`,
  );
  await stack.stop();
  console.log(
    `faults: lost=${lost} duplicated=${duplicated} alerts_lost=${alertsLost} alerts_doubled=${alertsDoubled} max_lag_s=${maxLagS.toFixed(1)} cameras=${CAMERAS.length} fps_per_camera=${fps}`,
  );
  process.exit(lost || duplicated || alertsDoubled || alertsLost ? 1 : 0);
}

/** Every face-search record in a data stream (all shards, from the trim horizon). */
async function readStream(kinesis: KinesisClient, streamName: string): Promise<FaceSearchRecord[]> {
  const out: FaceSearchRecord[] = [];
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  for (const shard of Shards) {
    let { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }));
    for (let i = 0; ShardIterator && i < 10_000; i++) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 10_000 }));
      for (const record of page.Records ?? []) {
        try {
          out.push(JSON.parse(Buffer.from(record.Data!).toString('utf8')) as FaceSearchRecord);
        } catch {
          // not a record
        }
      }
      if (!page.Records?.length) break;
      ShardIterator = page.NextShardIterator;
    }
  }
  return out;
}

/** The running stack's fault rules, through its gateway's control route. */
async function setFaults(stack: LocalStack, rules: unknown[]): Promise<void> {
  const response = await fetch(`${stack.endpoint}/_facewatch/faults`, { method: 'PUT', body: JSON.stringify({ rules }) });
  if (!response.ok) throw new Error(`setting faults: HTTP ${response.status} ${await response.text()}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
