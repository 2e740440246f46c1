/**
 * Recurring unknown visitors in the self processor on the offline twin, with real faces: a video of a registered
 * person, then a stranger, nobody, another photo of the same stranger, and a second stranger is streamed into the
 * local Kinesis Video service; the processor loop asks the local Rekognition (a real face engine) with a visitors
 * collection beside the people's. The same stranger must be one visitor across two photos, the other another.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { CreateStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media';
import { IndexFacesCommand, ListFacesCommand } from '@aws-sdk/client-rekognition';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { streamCamera } from '../../../local/kinesis-video/camera';
import { startKinesisVideoServer, type KinesisVideoServer } from '../../../local/kinesis-video/server';
import { runSelfProcessor, slicePorts } from '../../../local/stack/self-processor-runner';
import { decodeFaceSearchRecord, type FaceSearchRecord } from '../../../shared/domain/face-search-record';
import { BALD_GUYS, describeWithDlib } from '../../support/dlib';
import { createCameraStreams, startLocalAws, type LocalAws } from '../../support/local-aws';
import { createCollection, startLocalRekognition, type LocalRekognition } from '../../support/local-rekognition';

jest.setTimeout(150_000);

const FFMPEG: string = require('@ffmpeg-installer/ffmpeg').path;
const SEGMENT_S = 2;
/** Registered, then: stranger (photo A), nobody, the same stranger (photo B), another stranger. */
const SEGMENTS = ['statham', 'rockA', 'empty', 'rockB', 'willis'] as const;
const PHOTO: Record<string, number> = { statham: 7, rockA: 18, rockB: 20, willis: 12 };

async function baldGuy(dir: string, index: number, size = 210): Promise<Buffer> {
  const { x, y } = BALD_GUYS[index];
  const image = sharp(path.join(dir, 'bald_guys.jpg'));
  const { width = 0, height = 0 } = await image.metadata();
  const left = Math.round(Math.min(Math.max(0, x - size / 2), width - size));
  const top = Math.round(Math.min(Math.max(0, y - size / 2), height - size));
  return image.extract({ left, top, width: size, height: size }).jpeg({ quality: 95 }).toBuffer();
}

async function frame(face?: Buffer): Promise<Buffer> {
  const background = sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 120, g: 120, b: 120 } } });
  return (face ? background.composite([{ input: await sharp(face).resize(300, 300).toBuffer(), left: 170, top: 90 }]) : background).jpeg({ quality: 92 }).toBuffer();
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

describeWithDlib('recurring visitors in the self processor, real faces on the offline twin', (facesDir) => {
  let dir: string;
  let aws: LocalAws;
  let rekognition: LocalRekognition;
  let kvs: KinesisVideoServer;
  let records: FaceSearchRecord[];
  let producerStartS: number;
  /** The records of the middle of a segment (transitions left out), one face each. */
  const segment = (name: (typeof SEGMENTS)[number]) => {
    const i = SEGMENTS.indexOf(name);
    return records.filter((r) => {
      const t = frameTime(r) - producerStartS;
      return t > i * SEGMENT_S + 0.4 && t < (i + 1) * SEGMENT_S - 0.3;
    });
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'visitors-it-'));
    aws = await startLocalAws({ kinesis: true });
    rekognition = await startLocalRekognition({ warmUp: true });
    kvs = await startKinesisVideoServer({ port: 0, host: '127.0.0.1', dataDir: path.join(dir, 'kvs'), region: 'us-east-1' });
    const local = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, requestHandler: new NodeHttpHandler() };
    const kinesisVideo = new KinesisVideoClient({ ...local, endpoint: kvs.url });

    // Given: Statham registered; an empty visitors collection
    await createCollection(rekognition.client, 'faces');
    await createCollection(rekognition.client, 'visitors');
    const indexed = await rekognition.client.send(new IndexFacesCommand({ CollectionId: 'faces', Image: { Bytes: await baldGuy(facesDir, 6) }, ExternalImageId: 'statham', MaxFaces: 1, QualityFilter: 'AUTO' }));
    expect(indexed.FaceRecords).toHaveLength(1);
    const inputs: string[] = [];
    for (const name of SEGMENTS) {
      const file = path.join(dir, `${name}.jpg`);
      fs.writeFileSync(file, await frame(name === 'empty' ? undefined : await baldGuy(facesDir, PHOTO[name])));
      inputs.push('-loop', '1', '-framerate', '25', '-t', String(SEGMENT_S), '-i', file);
    }
    const video = path.join(dir, 'camera.mp4');
    const concat = `${SEGMENTS.map((_, i) => `[${i}]`).join('')}concat=n=${SEGMENTS.length}:v=1[v]`;
    execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', ...inputs, '-filter_complex', concat, '-map', '[v]', '-r', '25', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', video]);
    const [streams] = await createCameraStreams(aws.kinesis, 'visitors-it', ['front-door']);
    await kinesisVideo.send(new CreateStreamCommand({ StreamName: streams.videoStream, DataRetentionInHours: 1, MediaType: 'video/h264' }));

    // When the processor runs, with visitors on (a 1 s visit gap: the empty segment ends the first visit)
    const abort = new AbortController();
    const ports = slicePorts(
      { kinesisVideo, archivedMediaAt: (endpoint) => new KinesisVideoArchivedMediaClient({ ...local, endpoint }), rekognition: rekognition.client, kinesis: aws.kinesis },
      { videoStream: streams.videoStream, dataStream: streams.dataStream },
    );
    let analysedUpTo = 0;
    const processing = runSelfProcessor({
      settings: { camera: 'front-door', collectionId: 'faces', faceMatchThreshold: 85.5, maxFaces: 3, samplingFps: 5, snapshots: false, visitorCollectionId: 'visitors', visitGapSeconds: 1 },
      ports,
      signal: abort.signal,
      sliceMs: 30_000,
      tuning: { concurrency: 2 },
      onSlice: (r) => (analysedUpTo = r.lastFrameMs ?? analysedUpTo),
    });
    const streamed = await streamCamera({ endpoint: kvs.url, streamName: streams.videoStream, source: { file: video }, realtime: true, keyframeIntervalSec: 1 });
    producerStartS = streamed.producerStartMs / 1000;
    const videoEndMs = streamed.producerStartMs + SEGMENTS.length * SEGMENT_S * 1000;
    for (let waited = 0; analysedUpTo < videoEndMs - 400 && waited < 90_000; waited += 250) await new Promise((r) => setTimeout(r, 250));
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

  it('gives the registered person no visitor', () => {
    const known = segment('statham');
    expect(known.length).toBeGreaterThanOrEqual(5);
    for (const r of known) {
      expect(r.FaceSearchResponse[0].MatchedFaces[0]?.Face.ExternalImageId).toBe('statham');
      expect(r.FaceSearchResponse[0].Visitor).toBeUndefined();
    }
  });

  it('makes the stranger one visitor across two different photos, with a visit each time, and the other stranger another visitor', async () => {
    const visitorsOf = (name: (typeof SEGMENTS)[number]) => new Set(segment(name).map((r) => r.FaceSearchResponse[0]?.Visitor?.VisitorId));
    for (const name of ['rockA', 'rockB', 'willis'] as const) {
      expect(segment(name).length).toBeGreaterThanOrEqual(5);
      expect(segment(name).every((r) => r.FaceSearchResponse.length === 1 && r.FaceSearchResponse[0].MatchedFaces.length === 0)).toBe(true);
    }
    const [rock] = [...visitorsOf('rockA')];
    expect(visitorsOf('rockA')).toEqual(new Set([rock]));
    expect(rock).toMatch(/^v-[0-9a-f]{16}$/);
    expect(visitorsOf('rockB')).toEqual(new Set([rock]));
    const [willis] = [...visitorsOf('willis')];
    expect(visitorsOf('willis')).toEqual(new Set([willis]));
    expect(willis).not.toBe(rock);

    // Photo B was matched with the face indexed from photo A (not indexed again), and started a visit of its own
    const starts = records.flatMap((r) => r.FaceSearchResponse.map((f) => f.Visitor)).filter((v) => v?.VisitStart);
    expect(starts.filter((v) => v!.VisitorId === rock)).toEqual([
      { VisitorId: rock, VisitStart: true, FaceId: expect.any(String) },
      { VisitorId: rock, VisitStart: true, FaceId: expect.any(String), Similarity: expect.any(Number) },
    ]);
    expect(starts.filter((v) => v!.VisitorId === rock)[1]!.Similarity).toBeGreaterThanOrEqual(85.5);

    // the visitors collection: one face per visitor, under the visitor's id
    const { Faces = [] } = await rekognition.client.send(new ListFacesCommand({ CollectionId: 'visitors' }));
    expect(Faces.map((f) => f.ExternalImageId).sort()).toEqual([rock, willis].sort());
    expect(starts.find((v) => v!.VisitorId === rock)!.FaceId).toBe(Faces.find((f) => f.ExternalImageId === rock)!.FaceId);
  });
});
