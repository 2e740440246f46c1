/**
 * The self-managed processor end to end on the offline twin: a video made from real face photos is streamed
 * (ffmpeg → PutMedia) into the local Kinesis Video service; the processor loop (local/stack/self-processor-runner.ts,
 * the same use case and adapters as the worker Lambda) samples it, asks the local Rekognition, and writes
 * records into kinesalite, read back here through the consumer's decoder.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media';
import { IndexFacesCommand } from '@aws-sdk/client-rekognition';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { streamCamera } from '../../../local/kinesis-video/camera';
import { startKinesisVideoServer, type KinesisVideoServer } from '../../../local/kinesis-video/server';
import { runSelfProcessor, slicePorts } from '../../../local/stack/self-processor-runner';
import { decodeFaceSearchRecord, type FaceSearchRecord } from '../../../shared/domain/face-search-record';
import { BALD_GUYS, describeWithDlib } from '../../support/dlib';
import { createCameraStreams, startLocalAws, type LocalAws } from '../../support/local-aws';
import { createCollection, startLocalRekognition, type LocalRekognition } from '../../support/local-rekognition';

jest.setTimeout(110_000);

const FFMPEG: string = require('@ffmpeg-installer/ffmpeg').path;
const SEGMENT_S = 2;

/** One face of bald_guys.jpg (centre given in BALD_GUYS), cropped generously. */
async function baldGuy(dir: string, index: number, size = 210): Promise<Buffer> {
  const { x, y } = BALD_GUYS[index];
  const image = sharp(path.join(dir, 'bald_guys.jpg'));
  const { width = 0, height = 0 } = await image.metadata();
  const left = Math.round(Math.min(Math.max(0, x - size / 2), width - size));
  const top = Math.round(Math.min(Math.max(0, y - size / 2), height - size));
  return image
    .extract({ left, top, width: size, height: size })
    .jpeg({ quality: 95 })
    .toBuffer();
}

/** A 640×480 frame: grey background, the face photo scaled to 300 px in the middle. */
async function frame(face: Buffer): Promise<Buffer> {
  const scaled = await sharp(face).resize(300, 300).toBuffer();
  return sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 120, g: 120, b: 120 } } })
    .composite([{ input: scaled, left: 170, top: 90 }])
    .jpeg({ quality: 92 })
    .toBuffer();
}

async function readRecords(aws: LocalAws, streamName: string): Promise<FaceSearchRecord[]> {
  const { Shards } = await aws.kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const out: FaceSearchRecord[] = [];
  for (const shard of Shards ?? []) {
    let { ShardIterator } = await aws.kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    for (let i = 0; ShardIterator && i < 20; i++) {
      const page = await aws.kinesis.send(new GetRecordsCommand({ ShardIterator }));
      for (const r of page.Records ?? []) out.push(decodeFaceSearchRecord(Buffer.from(r.Data!).toString('base64')));
      if (!page.Records?.length) break;
      ShardIterator = page.NextShardIterator;
    }
  }
  return out;
}

const frameTime = (r: FaceSearchRecord) => r.InputInformation.KinesisVideo.ProducerTimestamp + r.InputInformation.KinesisVideo.FrameOffsetInSeconds;

describeWithDlib('self-managed processor on the offline twin', (facesDir) => {
  let dir: string;
  let aws: LocalAws;
  let rekognition: LocalRekognition;
  let kvs: KinesisVideoServer;
  let records: FaceSearchRecord[];
  let producerStartS: number;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'self-processor-it-'));
    aws = await startLocalAws({ kinesis: true });
    rekognition = await startLocalRekognition({ warmUp: true });
    kvs = await startKinesisVideoServer({ port: 0, host: '127.0.0.1', dataDir: path.join(dir, 'kvs'), region: 'us-east-1' });
    const local = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, requestHandler: new NodeHttpHandler() };
    const kinesisVideo = new KinesisVideoClient({ ...local, endpoint: kvs.url });

    // Given: Statham registered from one photo; a video of another photo of him, then of a stranger (the Rock)
    await createCollection(rekognition.client, 'faces');
    const indexed = await rekognition.client.send(
      new IndexFacesCommand({ CollectionId: 'faces', Image: { Bytes: await baldGuy(facesDir, 6) }, ExternalImageId: 'statham', MaxFaces: 1, QualityFilter: 'AUTO' }),
    );
    expect(indexed.FaceRecords).toHaveLength(1);
    fs.writeFileSync(path.join(dir, 'known.jpg'), await frame(await baldGuy(facesDir, 7)));
    fs.writeFileSync(path.join(dir, 'stranger.jpg'), await frame(await baldGuy(facesDir, 19)));
    const video = path.join(dir, 'camera.mp4');
    execFileSync(FFMPEG, [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-loop', '1', '-framerate', '25', '-t', String(SEGMENT_S), '-i', path.join(dir, 'known.jpg'),
      '-loop', '1', '-framerate', '25', '-t', String(SEGMENT_S), '-i', path.join(dir, 'stranger.jpg'),
      '-filter_complex', '[0][1]concat=n=2:v=1[v]', '-map', '[v]', '-r', '25', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', video,
    ]);
    const [streams] = await createCameraStreams(aws.kinesis, 'it', ['front-door']);
    await kinesisVideo.send(new CreateStreamCommand({ StreamName: streams.videoStream, DataRetentionInHours: 1, MediaType: 'video/h264' }));

    // When the processor runs while the camera streams the video in real time
    const abort = new AbortController();
    const ports = slicePorts(
      {
        kinesisVideo,
        archivedMediaAt: (endpoint) => new KinesisVideoArchivedMediaClient({ ...local, endpoint }),
        rekognition: rekognition.client,
        kinesis: aws.kinesis,
      },
      { videoStream: streams.videoStream, dataStream: streams.dataStream },
    );
    let analysedUpTo = 0;
    const processing = runSelfProcessor({
      settings: { camera: 'front-door', collectionId: 'faces', faceMatchThreshold: 85.5, maxFaces: 3, samplingFps: 5, snapshots: false },
      ports,
      signal: abort.signal,
      sliceMs: 2_000,
      tuning: { concurrency: 2 },
      onSlice: (r) => (analysedUpTo = r.lastFrameMs ?? analysedUpTo),
    });
    const streamed = await streamCamera({ endpoint: kvs.url, streamName: streams.videoStream, source: { file: video }, realtime: true, keyframeIntervalSec: 1 });
    producerStartS = streamed.producerStartMs / 1000;
    const videoEndMs = streamed.producerStartMs + 2 * SEGMENT_S * 1000;
    for (let waited = 0; analysedUpTo < videoEndMs - 400 && waited < 60_000; waited += 250) await new Promise((r) => setTimeout(r, 250));
    abort.abort();
    await processing;
    records = await readRecords(aws, streams.dataStream);
  });

  afterAll(async () => {
    await kvs?.close();
    await rekognition?.stop();
    await aws?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes one decodable record per sampled frame, in increasing frame time, about 5 per second of video', () => {
    expect(records.length).toBeGreaterThanOrEqual(2 * SEGMENT_S * 5 - 3);
    const times = records.map(frameTime);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]);
    for (const r of records) {
      expect(r.InputInformation.KinesisVideo.StreamArn).toMatch(/^arn:aws:kinesisvideo:us-east-1:\d+:stream\/facewatch-it-front-door\/\d+$/);
      expect(r.InputInformation.KinesisVideo.FragmentNumber).toMatch(/^\d{20,}$/);
      expect(r.InputInformation.KinesisVideo.FrameOffsetInSeconds).toBeGreaterThanOrEqual(0);
      expect(r.InputInformation.KinesisVideo.FrameOffsetInSeconds).toBeLessThan(1.5);
      expect(r.StreamProcessorInformation?.Status).toBe('RUNNING');
    }
  });

  it('recognises the registered person by ExternalImageId while he is on camera', () => {
    const known = records.filter((r) => frameTime(r) - producerStartS < SEGMENT_S - 0.3);
    expect(known.length).toBeGreaterThanOrEqual(5);
    for (const r of known) {
      expect(r.FaceSearchResponse).toHaveLength(1);
      const [face] = r.FaceSearchResponse;
      expect(face.MatchedFaces[0]?.Face.ExternalImageId).toBe('statham');
      expect(face.MatchedFaces[0]?.Similarity).toBeGreaterThanOrEqual(85.5);
      // the box is a ratio of the full 640×480 frame: the 300 px face sits in the middle
      const box = face.DetectedFace.BoundingBox;
      expect(box.Left + box.Width / 2).toBeGreaterThan(0.35);
      expect(box.Left + box.Width / 2).toBeLessThan(0.65);
      expect(box.Width).toBeLessThan(0.5);
      expect(face.DetectedFace.Landmarks?.map((l) => l.Type).sort()).toEqual(['eyeLeft', 'eyeRight', 'mouthLeft', 'mouthRight', 'nose']);
    }
  });

  it('reports the stranger as a face with no match', () => {
    const strangers = records.filter((r) => frameTime(r) - producerStartS > SEGMENT_S + 0.3);
    expect(strangers.length).toBeGreaterThanOrEqual(5);
    for (const r of strangers) {
      expect(r.FaceSearchResponse).toHaveLength(1);
      expect(r.FaceSearchResponse[0].MatchedFaces).toEqual([]);
    }
  });
});
