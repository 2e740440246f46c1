/**
 * `npm run bench:latency`: frame ingested → alert sent, on the local stack with the real handlers, and the
 * frames the processor analyses per second for one camera.
 *
 * Setup: a fresh stack in a temp dir with `alertCooldownSeconds=3` (so one person alerts again after 3 s) and the
 * default sampling rate (5 frames/s); two registered people; a 640×480 video of 2.5 s scenes alternating
 * between them, each with 0–2 strangers (1–3 faces per frame), streamed in real time through PutMedia.
 * Each scene brings a person back after 5 s, longer than the cooldown, so each scene change is an alert.
 *
 *  - ingest time = the frame's producer timestamp (ProducerTimestamp + FrameOffsetInSeconds in the record, i.e.
 *    when the camera put the frame into PutMedia), as the alert's sighting carries it (`seenAt`);
 *  - alert time = when the local SNS accepted the publish (the outbox file's `Timestamp`);
 *  - frames/s = records written to the face-search stream (one per analysed frame) / the wall time between the
 *    first and the last of them (Kinesis arrival timestamps).
 * Ends with one line: `p50_s=<x> p95_s=<y> fps=<z>`.
 *   npm run bench:latency -- [--seconds 40]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { LOCAL_CREDENTIALS, startLocalStack } from '../local/stack/stack';
import { ANNA, MARCO, STRANGERS, cropFace, sourcePath } from '../local/demo/cast';
import { OutboxWatcher, sleep, StackClient } from '../local/demo/harness';
import { buildVideo, type Scene } from '../local/demo/video';

const CAMERA = 'front-door';
const COOLDOWN_S = 3;
const SCENE_S = 2.5;

const percentile = (sorted: number[], p: number) => {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '40' } } });
  const seconds = Number(values.seconds);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-bench-latency-'));
  const videoFile = path.join(dataDir, 'bench.mp4');
  const scenes: Scene[] = [];
  for (let i = 0; scenes.length * SCENE_S < seconds; i++) {
    const person = i % 2 === 0 ? MARCO.onCamera[(i / 2) % MARCO.onCamera.length] : ANNA.onCamera[0];
    scenes.push({ durationSec: SCENE_S, faces: [person, ...STRANGERS.slice(0, i % 3)] });
  }
  console.log(`stack in ${dataDir}; video: ${scenes.length} scenes of ${SCENE_S} s (1–3 faces), alertCooldownSeconds=${COOLDOWN_S}`);
  const [stack] = await Promise.all([
    startLocalStack({ dataDir, port: 0, apiPort: 0, mailPort: 0, quiet: true, params: { alertCooldownSeconds: String(COOLDOWN_S) } }),
    buildVideo(scenes, videoFile),
  ]);
  try {
    const client = new StackClient({ ...stack, dataDir, region: stack.stackInfo.region, credentials: LOCAL_CREDENTIALS });
    const bucket = Object.values(stack.stackInfo.resources).find((r) => r.type === 'AWS::S3::Bucket')!.ref;
    for (const person of [MARCO, ANNA]) {
      const key = await client.uploadFace(bucket, person.name, 'registration.jpg', await cropFace(sourcePath(person.registration.source), person.registration.box));
      await client.waitForFace(person.name, key);
    }
    const processor = await client.startProcessor(CAMERA);
    const startedMs = Date.now();
    const outbox = new OutboxWatcher(path.join(dataDir, 'outbox'), startedMs);
    const camera = await client.streamFile(processor.videoStream.name!, videoFile);
    const videoEndMs = camera.producerStartMs + seconds * 1000;
    console.log(`video streamed: ${camera.persisted} fragments; waiting for the processor to finish it…`);

    // Wait for the last scene's alert, or until nothing new has come for 15 s.
    const alerts: ReturnType<OutboxWatcher['poll']> = [];
    let lastNew = Date.now();
    while (Date.now() - lastNew < 15_000) {
      const fresh = outbox.poll();
      if (fresh.length) lastNew = Date.now();
      alerts.push(...fresh);
      if (alerts.some((a) => a.seenAt && Date.parse(a.seenAt) >= videoEndMs - SCENE_S * 1000)) break;
      await sleep(500);
    }
    await client.stopProcessor(CAMERA);
    await sleep(1000);
    alerts.push(...outbox.poll());

    const latencies = alerts.filter((a) => a.seenAt).map((a) => (a.publishedMs - Date.parse(a.seenAt!)) / 1000).sort((a, b) => a - b);

    // Frames analysed: the records of the face-search stream, with their arrival times.
    const kinesis = new KinesisClient({ region: stack.stackInfo.region, endpoint: stack.endpoint, credentials: LOCAL_CREDENTIALS, requestHandler: new NodeHttpHandler() });
    const streamName = processor.dataStream.name!;
    const arrivals: number[] = [];
    /** Frame time (producer clock, ms) → when its record reached the face-search stream. */
    const arrivalOfFrame = new Map<number, number>();
    const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
    for (const shard of Shards) {
      let { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }));
      for (let i = 0; ShardIterator && i < 1000; i++) {
        const page = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }));
        for (const r of page.Records ?? []) {
          arrivals.push(r.ApproximateArrivalTimestamp!.getTime());
          const video = JSON.parse(Buffer.from(r.Data!).toString('utf8')).InputInformation.KinesisVideo;
          arrivalOfFrame.set(Math.round((video.ProducerTimestamp + video.FrameOffsetInSeconds) * 1000), r.ApproximateArrivalTimestamp!.getTime());
        }
        if (!page.Records?.length) break;
        ShardIterator = page.NextShardIterator;
      }
    }
    arrivals.sort((a, b) => a - b);
    const spanS = arrivals.length > 1 ? (arrivals[arrivals.length - 1] - arrivals[0]) / 1000 : NaN;
    const fps = arrivals.length > 1 ? (arrivals.length - 1) / spanS : NaN;

    // Where the latency goes: ingest → record in the face-search stream (video service + processor), then
    // record → alert (event source mapping poll/batching + consumer + SNS).
    const split = alerts
      .filter((a) => a.seenAt && arrivalOfFrame.has(Date.parse(a.seenAt)))
      .map((a) => ({ person: a.person, videoS: (Date.parse(a.seenAt!) - camera.producerStartMs) / 1000, toRecord: (arrivalOfFrame.get(Date.parse(a.seenAt!))! - Date.parse(a.seenAt!)) / 1000, toAlert: (a.publishedMs - arrivalOfFrame.get(Date.parse(a.seenAt!))!) / 1000 }));
    const med = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
    console.log(`per alert (person @video time: ingest→record + record→alert, s): ${split.map((x) => `${(x.person ?? '?').replace(/:.*/, '')} @${x.videoS.toFixed(1)} s: ${x.toRecord.toFixed(2)}+${x.toAlert.toFixed(2)}`).join('; ')}`);
    console.log(`median ingest→record ${med(split.map((x) => x.toRecord)).toFixed(2)} s, record→alert ${med(split.map((x) => x.toAlert)).toFixed(2)} s`);
    console.log(`alerts: ${latencies.length} (expected about ${scenes.length}); latencies (s): ${latencies.map((l) => l.toFixed(2)).join(' ')}`);
    console.log(`frames analysed: ${arrivals.length} over ${spanS.toFixed(1)} s of processing for ${seconds} s of video at 5 frames/s sampling (${Math.round(seconds * 5)} frames)`);
    console.log(`p50_s=${percentile(latencies, 50).toFixed(2)} p95_s=${percentile(latencies, 95).toFixed(2)} fps=${fps.toFixed(2)}`);
  } finally {
    await stack.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
