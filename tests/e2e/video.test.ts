/**
 * Video in, records and sightings out, end to end on the local stack: a real H.264 video of a registered
 * person and a stranger is streamed (PutMedia, real time, the `facewatch camera` path) into the camera's
 * Kinesis video stream; the processor is started and stopped through the REST API. Then a managed stream
 * processor is created and started on the twin with Rekognition's own API (what `processorMode: managed`
 * does): it runs on the same video, and its records must pass the same decoder as the self processor's.
 * One stack for the file (packaging + start ≈ 30–60 s); the tests build on each other, in order.
 */
import '../support/quiet-logs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import {
  CreateStreamProcessorCommand,
  DescribeStreamProcessorCommand,
  RekognitionClient,
  StartStreamProcessorCommand,
  StopStreamProcessorCommand,
} from '@aws-sdk/client-rekognition';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { streamCamera } from '../../local/kinesis-video/camera';
import { LOCAL_CREDENTIALS, startLocalStack, type LocalStack } from '../../local/stack/stack';
import { MARCO, STRANGERS, cropFace, sourcePath } from '../../local/demo/cast';
import { sleep, StackClient, streamArns, type ProcessorView, type SightingItem } from '../../local/demo/harness';
import { buildVideo } from '../../local/demo/video';
import { decodeFaceSearchRecord, type FaceSearchRecord } from '../../shared/domain/face-search-record';

jest.setTimeout(240_000);

const CAMERA = 'front-door';
const UNKNOWN = 'UNKNOWN';

interface StreamRecord {
  sequenceNumber: string;
  data: string; // base64, as the consumer's event carries it
}

/** Every record of the data stream so far, in stream order (one shard per camera stream). */
async function readDataStream(kinesis: KinesisClient, streamName: string): Promise<StreamRecord[]> {
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const out: StreamRecord[] = [];
  for (const shard of Shards) {
    let { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }));
    for (let i = 0; ShardIterator && i < 1000; i++) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }));
      for (const r of page.Records ?? []) out.push({ sequenceNumber: r.SequenceNumber!, data: Buffer.from(r.Data!).toString('base64') });
      if (!page.Records?.length && (page.MillisBehindLatest ?? 0) === 0) break;
      ShardIterator = page.NextShardIterator;
    }
  }
  return out;
}

// ProducerTimestamp is in epoch seconds, as in the managed processor's records.
const frameTimeMs = (r: FaceSearchRecord) => (r.InputInformation.KinesisVideo.ProducerTimestamp + r.InputInformation.KinesisVideo.FrameOffsetInSeconds) * 1000;

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(500);
  }
}

describe('video → processor → records and sightings (local stack)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-e2e-video-'));
  const videoFile = path.join(dataDir, 'known-then-stranger.mp4');
  let stack: LocalStack;
  let client: StackClient;
  let kinesis: KinesisClient;
  let processor: ProcessorView;
  let marcoId: string;
  let since: Date;
  const camera = new AbortController();
  let streaming: Promise<unknown> | undefined;
  let selfRecords: StreamRecord[] = [];

  beforeAll(async () => {
    const [started] = await Promise.all([
      startLocalStack({ dataDir, port: 0, apiPort: 0, mailPort: 0, quiet: true, print: () => undefined }),
      // A registered person, then a stranger; looped while the tests need video.
      buildVideo(
        [
          { durationSec: 4, faces: [MARCO.onCamera[0]] },
          { durationSec: 4, faces: [STRANGERS[0]] },
        ],
        videoFile,
      ),
    ]);
    stack = started;
    client = new StackClient({ ...stack, dataDir, region: stack.stackInfo.region, credentials: LOCAL_CREDENTIALS });
    kinesis = new KinesisClient({ region: stack.stackInfo.region, endpoint: stack.endpoint, credentials: LOCAL_CREDENTIALS, requestHandler: new NodeHttpHandler() });
    processor = await client.processor(CAMERA);
  });

  afterAll(async () => {
    camera.abort();
    await streaming?.catch(() => undefined);
    await stack?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('given a registered person, when the processor is started through the API and video arrives, then their sightings carry their id, the camera and increasing frame times; the stranger is UNKNOWN', async () => {
    // given: one photo registers Marco (a different photo of him is in the video)
    const bucket = Object.values(stack.stackInfo.resources).find((r) => r.type === 'AWS::S3::Bucket')!.ref;
    const key = await client.uploadFace(bucket, MARCO.name, 'registration.jpg', await cropFace(sourcePath(MARCO.registration.source), MARCO.registration.box));
    marcoId = (await client.waitForFace(MARCO.name, key)).personId;

    // when
    const started = await client.startProcessor(CAMERA);
    expect(started.state).toBe('RUNNING');
    since = new Date(Date.now() - 1000);
    streaming = streamCamera({
      endpoint: stack.endpoint,
      streamName: processor.videoStream.name!,
      source: { file: videoFile, loop: true },
      region: stack.stackInfo.region,
      credentials: LOCAL_CREDENTIALS,
      signal: camera.signal,
    });

    // then
    const sightings = await eventually(
      'sightings of Marco and of the stranger',
      async () => {
        const all = await client.sightings(CAMERA, since);
        const marco = all.filter((s) => s.personId === marcoId);
        return marco.length >= 3 && all.some((s) => s.personId === UNKNOWN) ? all : undefined;
      },
      120_000,
    );
    const marco = sightings.filter((s) => s.personId === marcoId);
    expect(marco.every((s) => s.camera === CAMERA)).toBe(true);
    expect(marco.every((s) => (s.similarity ?? 0) >= (processor.settings.faceMatchThreshold ?? 80))).toBe(true);
    expect(sightings.every((s: SightingItem) => s.personId === marcoId || s.personId === UNKNOWN)).toBe(true);

    // The self processor keeps a snapshot per face: GET /sightings links it with a presigned URL that serves the JPEG.
    const linked = await eventually(
      'a sighting whose snapshot can be downloaded',
      async () => {
        for (const s of marco.filter((x) => x.snapshotUrl)) {
          const response = await fetch(s.snapshotUrl!);
          if (response.ok) return { s, bytes: Buffer.from(await response.arrayBuffer()) };
        }
        return undefined;
      },
      20_000,
    );
    expect(linked.s.snapshotUrl).toContain(`snapshots/${CAMERA}/${linked.s.sightingId}.jpg`);
    expect(linked.bytes.subarray(0, 2).toString('hex')).toBe('ffd8'); // a JPEG

    // Frame times increase along the data stream (the order the processor wrote them), and sit in the video's time.
    const records = (await readDataStream(kinesis, processor.dataStream.name!)).map((r) => decodeFaceSearchRecord(r.data));
    const times = records.map(frameTimeMs);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]);
    expect(Math.min(...times)).toBeGreaterThan(since.getTime() - 5000);
    expect(Math.max(...times)).toBeLessThanOrEqual(Date.now());
    expect(records.every((r) => r.InputInformation.KinesisVideo.StreamArn === streamArns(stack.stackInfo.resources, processor).video)).toBe(true);
  });

  it('when the processor is stopped through the API, then no more records are written while the video goes on', async () => {
    const stopped = await client.stopProcessor(CAMERA);
    expect(stopped.state).toBe('STOPPED');
    const atStop = await readDataStream(kinesis, processor.dataStream.name!);
    await sleep(6000); // the camera keeps streaming
    const later = await readDataStream(kinesis, processor.dataStream.name!);
    expect(later.length).toBe(atStop.length);
    expect(later.length).toBeGreaterThan(0);
    selfRecords = later;
  });

  it('a managed stream processor on the twin (the seed\'s create/start/stop-stream-processor) writes records that pass the same decoder as the self processor', async () => {
    // given: the seed's commands, through the stack's single endpoint
    const rekognition = new RekognitionClient({ region: stack.stackInfo.region, endpoint: stack.endpoint, credentials: LOCAL_CREDENTIALS });
    const arns = streamArns(stack.stackInfo.resources, processor);
    const name = 'e2e-managed';
    await rekognition.send(
      new CreateStreamProcessorCommand({
        Name: name,
        Input: { KinesisVideoStream: { Arn: arns.video } },
        Output: { KinesisDataStream: { Arn: arns.data } },
        RoleArn: 'arn:aws:iam::000000000000:role/e2e-stream-processor',
        Settings: { FaceSearch: { CollectionId: processor.settings.collectionId, FaceMatchThreshold: processor.settings.faceMatchThreshold } },
      }),
    );
    const before = selfRecords.length;

    // when
    await rekognition.send(new StartStreamProcessorCommand({ Name: name }));
    const all = await eventually(
      'records from the managed processor with a matched face',
      async () => {
        const records = await readDataStream(kinesis, processor.dataStream.name!);
        const fresh = records.slice(before).map((r) => decodeFaceSearchRecord(r.data));
        return fresh.some((r) => r.FaceSearchResponse.some((f) => f.MatchedFaces.length > 0)) ? records : undefined;
      },
      90_000,
    ).finally(() => rekognition.send(new StopStreamProcessorCommand({ Name: name })));

    // then
    const described = await rekognition.send(new DescribeStreamProcessorCommand({ Name: name }));
    expect(described.Status === 'STOPPED' || described.Status === 'STOPPING').toBe(true);
    expect(described.StatusMessage ?? '').not.toMatch(/fail/i);

    // Same decoder, same shape: every record of both modes decodes, with the same fields filled.
    const selfDecoded = selfRecords.map((r) => decodeFaceSearchRecord(r.data));
    const managedDecoded = all.slice(before).map((r) => decodeFaceSearchRecord(r.data));
    expect(managedDecoded.length).toBeGreaterThan(0);
    const shape = (r: FaceSearchRecord) => [Object.keys(r).sort().join(','), Object.keys(r.InputInformation.KinesisVideo).sort().join(',')].join(' | ');
    expect(new Set(managedDecoded.map(shape))).toEqual(new Set(selfDecoded.map(shape)));
    const matched = (records: FaceSearchRecord[]) => records.flatMap((r) => r.FaceSearchResponse.flatMap((f) => f.MatchedFaces));
    expect(matched(managedDecoded).length).toBeGreaterThan(0);
    expect(new Set(matched(managedDecoded).map((m) => m.Face.FaceId))).toEqual(new Set(matched(selfDecoded).map((m) => m.Face.FaceId)));

    // Stopped: nothing more.
    const atStop = (await readDataStream(kinesis, processor.dataStream.name!)).length;
    await sleep(4000);
    expect((await readDataStream(kinesis, processor.dataStream.name!)).length).toBe(atStop);
  });

});
