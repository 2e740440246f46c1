/**
 * `npm run bench:cost`: what the self processor costs per camera-hour, from the billable units a real run makes.
 *
 * A local stack (the real handlers: the consumer turns the records into sightings and alerts) counts every
 * billable request through its endpoint (local/usage/meter.ts). The processor's own code (the slice and its
 * adapters, as processVideo runs them) analyses recorded video streamed into Kinesis Video, for both
 * processorFaceDetector settings in the same run, over three scenes:
 *   (a) empty: a corridor with slow light changes and sensor noise;
 *   (b) one face: a registered person in view the whole time;
 *   (c) visits: the demo's cast walking through, one at a time, with empty corridor between them;
 *   (d) strangers: two unregistered people walking through, then the first one again (recurring visitors on and off).
 * The video is streamed as fast as the twin takes it and analysed on its producer timestamps, so minutes of
 * video take less. Counted units × bench/prices.ts, scaled to an hour of video, plus what a camera costs per hour
 * whatever it sees (processVideo at its memory for the whole hour, the data stream's shard and consumer).
 *
 *   npm run bench:cost -- [--empty-seconds 120] [--face-seconds 60] [--kvs-image-usd <price per GetImages image>]
 *
 * GetImages' per-image price is not in the price table (see its pricing page): give it with --kvs-image-usd;
 * until then the images are counted and printed, priced at the value given (default 0, said on its own line).
 * Last line: empty_usd_h=… one_face_usd_h=… visit_usd=… baseline_empty_usd_h=… baseline_one_face_usd_h=… people_found=K/N unknown_visit_extra_usd=…
 * (baseline: Rekognition's DetectFaces on every analysed frame, without the motion gate — the processor before this
 * one — in the same run; the `rekognition` setting as it now runs, with the gate, is printed on the line before).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { GetItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media';
import { DeleteFacesCommand, ListFacesCommand, RekognitionClient } from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import sharp from 'sharp';
import { personIdFromName } from '../shared/domain/person-id';
import { HumanFaceDetector } from '../shared/face-detector/human-face-detector';
import { SharpFaceCropper } from '../shared/adapters/sharp-face-cropper';
import { paddedCropRegion } from '../shared/domain/frame-analysis';
import type { BoundingBox } from '../shared/domain/model';
import { peopleKeys } from '../shared/tables';
import type { FaceDetectorChoice } from '../shared/composition/face-analyzer';
import { analyseVideoSlice, type SliceResult } from '../shared/use-cases/analyse-video-slice';
import { ANNA, MARCO, STRANGERS, cropFace, sourcePath } from '../local/demo/cast';
import { StackClient, sleep } from '../local/demo/harness';
import { buildVideo, type Scene } from '../local/demo/video';
import { streamCamera } from '../local/kinesis-video/camera';
import { LOCAL_CREDENTIALS, startLocalStack } from '../local/stack/stack';
import { slicePorts } from '../local/stack/self-processor-runner';
import { costOf, hourlyFloor, PRICES } from './prices';

const run = promisify(execFile);
const CAMERA = 'front-door';
/** processVideo's memory in serverless.yml (docs/self-processor.md: how it was chosen). */
const MEMORY_MB = 1024;

/**
 * The product's two detector settings, and today's processor before this one: DetectFaces on every frame, no motion
 * gate. Visitors on (the default) everywhere; `local-novisitors` runs the strangers scene alone with them off, so
 * that what recurring visitors add to an unknown visit is measured, not estimated.
 */
const SETUPS = [
  { name: 'local', detector: 'local' as FaceDetectorChoice, motionThreshold: undefined, visitors: true },
  { name: 'local-novisitors', detector: 'local' as FaceDetectorChoice, motionThreshold: undefined, visitors: false, scenes: ['strangers'] },
  { name: 'rekognition', detector: 'rekognition' as FaceDetectorChoice, motionThreshold: undefined, visitors: true, scenes: ['empty', 'face', 'visits'] },
  { name: 'baseline', detector: 'rekognition' as FaceDetectorChoice, motionThreshold: 0, visitors: false, scenes: ['empty', 'face', 'visits'] },
];

interface SceneRun {
  scene: string;
  detector: string;
  videoSeconds: number;
  usage: Record<string, number>;
  usd: number;
  slice: Pick<SliceResult, 'framesAnalysed' | 'facesFound' | 'facesSearched'>;
  wallSeconds: number;
}

async function emptyCorridor(file: string, seconds: number, work: string): Promise<void> {
  // The demo's corridor without anyone in it, then a slow light change (±6 % over a minute) and sensor noise.
  const plain = path.join(work, 'corridor-plain.mp4');
  await buildVideo([{ durationSec: seconds, faces: [] }], plain);
  await run(ffmpegInstaller.path, [
    '-hide_banner', '-loglevel', 'error', '-y', '-i', plain,
    '-vf', "eq=brightness='0.06*sin(2*PI*t/60)',noise=alls=5:allf=t",
    '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'veryfast', file,
  ]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'empty-seconds': { type: 'string', default: '120' }, 'face-seconds': { type: 'string', default: '60' }, 'kvs-image-usd': { type: 'string', default: '0' } },
  });
  const emptySeconds = Number(values['empty-seconds']);
  const faceSeconds = Number(values['face-seconds']);
  const kvsImageUsd = Number(values['kvs-image-usd']);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-bench-cost-'));
  const files = { empty: path.join(dataDir, 'empty.mp4'), face: path.join(dataDir, 'face.mp4'), visits: path.join(dataDir, 'visits.mp4'), strangers: path.join(dataDir, 'strangers.mp4') };
  const visitScenes: Scene[] = [
    { durationSec: 6, faces: [] },
    { durationSec: 4, faces: [MARCO.onCamera[0]] },
    { durationSec: 6, faces: [] },
    { durationSec: 4, faces: [ANNA.onCamera[0]] },
    { durationSec: 6, faces: [] },
  ];
  const visits = 2;
  const visitsSeconds = visitScenes.reduce((s, v) => s + v.durationSec, 0);
  // (d) unknown visits: two strangers walk through, then the first comes back (two new visitors, one returning).
  const strangerScenes: Scene[] = [
    { durationSec: 6, faces: [] },
    { durationSec: 4, faces: [STRANGERS[0]] },
    { durationSec: 6, faces: [] },
    { durationSec: 4, faces: [STRANGERS[1]] },
    { durationSec: 6, faces: [] },
    { durationSec: 4, faces: [STRANGERS[0]] },
    { durationSec: 6, faces: [] },
  ];
  const unknownVisits = 3;
  const strangersSeconds = strangerScenes.reduce((s, v) => s + v.durationSec, 0);
  console.log(`stack in ${dataDir}; scenes: empty ${emptySeconds} s, one face ${faceSeconds} s, visits ${visitsSeconds} s (${visits} people)`);
  const [stack] = await Promise.all([
    startLocalStack({ dataDir, port: 0, apiPort: 0, mailPort: 0, quiet: true }),
    emptyCorridor(files.empty, emptySeconds, dataDir),
    buildVideo([{ durationSec: faceSeconds, faces: [MARCO.onCamera[0]] }], files.face),
    buildVideo(visitScenes, files.visits),
    buildVideo(strangerScenes, files.strangers),
  ]);
  const runs: SceneRun[] = [];
  try {
    const resources = stack.stackInfo.resources;
    const refOf = (type: string) => Object.values(resources).find((r) => r.type === type)!.ref;
    const bucket = refOf('AWS::S3::Bucket');
    const collectionId = resources.FaceCollection.ref;
    const visitorCollectionId = resources.VisitorCollection.ref;
    const dataStream = Object.values(resources).find((r) => r.type === 'AWS::Kinesis::Stream' && r.ref.includes(CAMERA))!.ref;
    const client = new StackClient({ ...stack, dataDir, region: stack.stackInfo.region, credentials: LOCAL_CREDENTIALS });
    for (const person of [MARCO, ANNA]) {
      const key = await client.uploadFace(bucket, person.name, 'registration.jpg', await cropFace(sourcePath(person.registration.source), person.registration.box));
      await client.waitForFace(person.name, key);
    }
    const config = { endpoint: stack.endpoint, region: stack.stackInfo.region, credentials: LOCAL_CREDENTIALS, requestHandler: new NodeHttpHandler() };
    const kinesisVideo = new KinesisVideoClient(config);
    const clients = {
      kinesisVideo,
      archivedMediaAt: (endpoint: string) => new KinesisVideoArchivedMediaClient({ ...config, endpoint }),
      rekognition: new RekognitionClient(config),
      kinesis: new KinesisClient(config),
      s3: new S3Client({ ...config, forcePathStyle: true }),
      snapshotBucket: bucket,
    };
    const dynamodb = new DynamoDBClient(config);
    const peopleTable = Object.values(resources).find((r) => r.type === 'AWS::DynamoDB::Table' && r.ref.endsWith('-people'))!.ref;
    const lastSeen = async (name: string) => {
      const key = peopleKeys.person(personIdFromName(name));
      return (await dynamodb.send(new GetItemCommand({ TableName: peopleTable, Key: { pk: { S: key.pk }, sk: { S: key.sk } } }))).Item?.lastSeenAt?.S;
    };

    for (const { name: detector, detector: faceDetector, motionThreshold, visitors: withVisitors, scenes } of SETUPS) {
      for (const [scene, file] of Object.entries(files)) {
        if (scenes && !scenes.includes(scene)) continue;
        const videoStream = `bench-${detector}-${scene}`;
        await kinesisVideo.send(new CreateStreamCommand({ StreamName: videoStream, DataRetentionInHours: 1, MediaType: 'video/h264' }));
        const streamed = await streamCamera({ endpoint: stack.endpoint, streamName: videoStream, source: { file }, realtime: false, region: config.region, credentials: LOCAL_CREDENTIALS });
        const videoSeconds = scene === 'empty' ? emptySeconds : scene === 'face' ? faceSeconds : scene === 'visits' ? visitsSeconds : strangersSeconds;
        const endMs = streamed.producerStartMs + videoSeconds * 1000;
        await sleep(1500); // the consumer has finished the previous scene's records
        // Each scene starts from an empty visitors collection (not counted): its strangers are new visitors in it.
        if (withVisitors) await clearVisitors(clients.rekognition, visitorCollectionId);
        stack.usage.reset();
        const started = Date.now();
        const ports = slicePorts({ ...clients, faceDetector }, { videoStream, dataStream, domain: 'PRODUCER_TIMESTAMP' });
        let cursorMs = streamed.producerStartMs;
        let lastFrameMs: number | undefined;
        const slice = { framesAnalysed: 0, facesFound: 0, facesSearched: 0 };
        while ((lastFrameMs ?? cursorMs) < endMs - 400) {
          const result = await analyseVideoSlice(
            {
              settings: { camera: CAMERA, collectionId, faceMatchThreshold: 85.5, maxFaces: 5, samplingFps: 5, snapshots: true, ...(withVisitors ? { visitorCollectionId, visitGapSeconds: 60 } : {}) },
              cursorMs,
              lastFrameMs,
              deadlineMs: Date.now() + 15_000,
              tuning: { maxLagMs: Number.MAX_SAFE_INTEGER, idlePollMs: 100, concurrency: 2, ...(motionThreshold === undefined ? {} : { motionThreshold }) },
            },
            { ...ports, clock: { now: Date.now, sleep: async (ms) => void (await sleep(ms)) }, progress: { renew: async () => true, checkpoint: async () => true } },
          );
          if (result.cursorMs === cursorMs && result.lastFrameMs === lastFrameMs) break; // no more video
          cursorMs = result.cursorMs;
          lastFrameMs = result.lastFrameMs;
          slice.framesAnalysed += result.framesAnalysed;
          slice.facesFound += result.facesFound;
          slice.facesSearched += result.facesSearched;
        }
        await sleep(3000); // the consumer's sightings and alerts for this scene are counted too
        const usage = stack.usage.snapshot();
        const entry: SceneRun = { scene, detector, videoSeconds, usage, usd: costOf(usage, kvsImageUsd), slice, wallSeconds: (Date.now() - started) / 1000 };
        runs.push(entry);
        console.log(
          `${detector.padEnd(11)} ${scene.padEnd(6)} ${videoSeconds} s video in ${entry.wallSeconds.toFixed(0)} s: frames=${slice.framesAnalysed} faces=${slice.facesFound} searched=${slice.facesSearched} ` +
            `usd=${entry.usd.toFixed(5)} ${Object.entries(usage).sort().map(([k, v]) => `${k}=${v}`).join(' ')}`,
        );
      }
    }
    const found = await Promise.all([MARCO, ANNA].map(async (p) => Boolean(await lastSeen(p.name))));
    const peopleFound = found.filter(Boolean).length;

    // The detector alone: ms per 640×480 frame and the smallest face it still finds as the demo face shrinks.
    const detectorFigures = await detectorProbe(files.face, dataDir);
    const cpu = await workerCpuProbe(files.face, dataDir);

    const perHour = (scene: string, detector: string) => {
      const r = runs.find((x) => x.scene === scene && x.detector === detector)!;
      return (r.usd * 3600) / r.videoSeconds + hourlyFloor(MEMORY_MB);
    };
    const visitUsd = (detector: string) => {
      const v = runs.find((x) => x.scene === 'visits' && x.detector === detector)!;
      const e = runs.find((x) => x.scene === 'empty' && x.detector === detector)!;
      return Math.max(0, v.usd - (e.usd * v.videoSeconds) / e.videoSeconds) / visits;
    };
    // What recurring visitors add to an unknown visit: the strangers scene with them on, minus the same with them off.
    const strangers = (detector: string) => runs.find((x) => x.scene === 'strangers' && x.detector === detector)!;
    const visitorExtraUsd = Math.max(0, strangers('local').usd - strangers('local-novisitors').usd) / unknownVisits;
    const extraUnits = Object.fromEntries(
      Object.keys({ ...strangers('local').usage, ...strangers('local-novisitors').usage })
        .map((key) => [key, (strangers('local').usage[key] ?? 0) - (strangers('local-novisitors').usage[key] ?? 0)] as const)
        .filter(([, n]) => n !== 0),
    );
    console.log(`recurring visitors, ${unknownVisits} unknown visits (2 new visitors, 1 returning): extra units ${Object.entries(extraUnits).sort().map(([k, v]) => `${k}=${v}`).join(' ')}`);
    const images = runs.find((r) => r.detector === 'local' && r.scene === 'empty')!;
    console.log(`GetImages images per camera-hour: ${((images.usage['kinesisvideo.GetImages.images'] ?? 0) * 3600) / images.videoSeconds} at --kvs-image-usd ${kvsImageUsd} (${kvsImageUsd === 0 ? 'UNPRICED: give the price from https://aws.amazon.com/kinesis/video-streams/pricing/' : 'as given'})`);
    console.log(`floor per camera-hour (processVideo ${MEMORY_MB} MB arm64 all hour, its runs, data stream shard and consumer): ${hourlyFloor(MEMORY_MB).toFixed(4)} USD; prices: ${PRICES.rekognitionImage.source} and bench/prices.ts`);
    console.log(`detector: ${detectorFigures.msPerFrame.toFixed(0)} ms per 640x480 frame; face widths found: ${detectorFigures.widths.map((w) => `${w.scale}%=${w.width ?? 'none'}px`).join(' ')}; smallest_face_px=${detectorFigures.smallest}; memory_mb=${MEMORY_MB}`);
    console.log(
      `worker CPU per analysed frame (thumbnail, detector, signature, snapshot crop; one face, the gate saving nothing): ${cpu.cpuMsPerFrame.toFixed(1)} ms ` +
        `=> vCPU needed at 5 frames/s with a ${Math.round(SDK_ALLOWANCE * 100)} % allowance for the SDK calls: ${cpu.vcpuAt5Fps.toFixed(2)}; ` +
        `frames/s by processVideo memory (CPU share = MB/1769): ${cpu.byMemory.map((m) => `${m.memoryMb}MB=${m.fps.toFixed(1)}`).join(' ')}; smallest meeting 5 fps: ${cpu.smallestMeeting ?? 'none'} MB (memory_mb=${MEMORY_MB} configured)`,
    );
    console.log(
      `rekognition detector (with the motion gate, as processorFaceDetector=rekognition runs): empty ${perHour('empty', 'rekognition').toFixed(4)} USD/h, one face ${perHour('face', 'rekognition').toFixed(4)} USD/h, a visit ${visitUsd('rekognition').toFixed(5)} USD`,
    );
    console.log(
      `empty_usd_h=${perHour('empty', 'local').toFixed(4)} one_face_usd_h=${perHour('face', 'local').toFixed(4)} visit_usd=${visitUsd('local').toFixed(5)} ` +
        `baseline_empty_usd_h=${perHour('empty', 'baseline').toFixed(4)} baseline_one_face_usd_h=${perHour('face', 'baseline').toFixed(4)} people_found=${peopleFound}/${visits} ` +
        `unknown_visit_extra_usd=${visitorExtraUsd.toFixed(5)}`,
    );
  } finally {
    await stack.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Deletes every face of the visitors collection (ListFaces pages, DeleteFaces). */
async function clearVisitors(rekognition: RekognitionClient, collectionId: string): Promise<void> {
  for (;;) {
    const { Faces = [] } = await rekognition.send(new ListFacesCommand({ CollectionId: collectionId, MaxResults: 1000 }));
    if (!Faces.length) return;
    await rekognition.send(new DeleteFacesCommand({ CollectionId: collectionId, FaceIds: Faces.map((f) => f.FaceId!) }));
  }
}

/** CPU the SDK's calls (GetImages, PutRecords, the snapshot PUTs, the searches) add to a frame's own work: an allowance, not measured here. */
const SDK_ALLOWANCE = 0.3;
/** Lambda's memory settings compared (MB); one vCPU's share at 1,769 MB. */
const MEMORY_STEPS = [512, 640, 768, 896, 1024, 1280, 1536, 1769];

/**
 * The worker's own CPU per analysed frame, as a proxy for Lambda's CPU share (no cgroup here): process.cpuUsage()
 * (user + system, so another engineer's load on this machine slows it less than wall time) over 50 frames of the
 * one-face video at 5 frames/s, each doing what a frame with a moving face costs the worker — the motion gate's
 * thumbnail, the detector, the face's signature and the snapshot's crop. Lambda gives CPU in proportion to memory
 * (one vCPU at 1,769 MB, https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html), so memory M
 * keeps fps = (M / 1769) / (CPU s per frame × (1 + SDK_ALLOWANCE)). Measured on this x64 machine, not on arm64.
 */
async function workerCpuProbe(video: string, work: string): Promise<{ cpuMsPerFrame: number; vcpuAt5Fps: number; byMemory: { memoryMb: number; fps: number }[]; smallestMeeting?: number }> {
  const dir = path.join(work, 'cpu-probe');
  fs.mkdirSync(dir, { recursive: true });
  await run(ffmpegInstaller.path, ['-hide_banner', '-loglevel', 'error', '-y', '-ss', '1', '-i', video, '-vf', 'fps=5', '-frames:v', '50', path.join(dir, 'f%03d.jpg')]);
  const frames = fs.readdirSync(dir).sort().map((f) => fs.readFileSync(path.join(dir, f)));
  const detector = new HumanFaceDetector();
  const cropper = new SharpFaceCropper();
  await detector.detectFaces(frames[0]); // the models load on the first frame, once per run
  const before = process.cpuUsage();
  for (const frame of frames) {
    await cropper.thumbnail(frame);
    const faces = await detector.detectFaces(frame);
    for (const face of faces) {
      const box = face.BoundingBox as BoundingBox;
      await cropper.signature(frame, box);
      await cropper.crop(frame, paddedCropRegion(box, 0.4));
    }
  }
  const used = process.cpuUsage(before);
  const cpuMsPerFrame = (used.user + used.system) / 1000 / frames.length;
  const vcpuAt5Fps = (5 * cpuMsPerFrame * (1 + SDK_ALLOWANCE)) / 1000;
  const byMemory = MEMORY_STEPS.map((memoryMb) => ({ memoryMb, fps: memoryMb / 1769 / ((cpuMsPerFrame * (1 + SDK_ALLOWANCE)) / 1000) }));
  return { cpuMsPerFrame, vcpuAt5Fps, byMemory, smallestMeeting: byMemory.find((m) => m.fps >= 5)?.memoryMb };
}

/** Times the detector on a frame of the one-face video, and finds the face in that frame scaled to 100, 50, 33 and 25 %. */
async function detectorProbe(video: string, work: string): Promise<{ msPerFrame: number; widths: { scale: number; width?: number }[]; smallest?: number }> {
  const frame = path.join(work, 'probe.jpg');
  await run(ffmpegInstaller.path, ['-hide_banner', '-loglevel', 'error', '-y', '-ss', '2', '-i', video, '-frames:v', '1', frame]);
  const image = fs.readFileSync(frame);
  const detector = new HumanFaceDetector();
  await detector.detectFaces(image);
  const started = Date.now();
  for (let i = 0; i < 10; i++) await detector.detectFaces(image);
  const msPerFrame = (Date.now() - started) / 10;
  const widths: { scale: number; width?: number }[] = [];
  for (const scale of [100, 50, 33, 25]) {
    const width = Math.round((640 * scale) / 100);
    const scaled = await sharp(image).resize({ width }).extend({ right: 640 - width, bottom: 480 - Math.round((480 * scale) / 100), background: '#2b3036' }).jpeg().toBuffer();
    const faces = await detector.detectFaces(scaled);
    widths.push({ scale, width: faces.length ? Math.round(Math.max(...faces.map((f) => f.BoundingBox!.Width!)) * 640) : undefined });
  }
  const found = widths.filter((w) => w.width !== undefined).map((w) => w.width!);
  return { msPerFrame, widths, smallest: found.length ? Math.min(...found) : undefined };
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
