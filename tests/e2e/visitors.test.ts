/**
 * Recurring unknown visitors end to end on the local stack: the demo's video of a stranger who comes and goes is
 * streamed in real time (PutMedia, the `facewatch camera` path) into the camera's stream; the self processor, the
 * consumer and the API are the packaged functions, under their own roles. One stable visitor must appear, with a
 * visit per appearance; naming it registers their best snapshot as a new person (through faces/ and the indexer)
 * and moves their sightings; streaming again, the person is recognised from that photo.
 * The stack's visit gap is 3 s (the demo video is away 5 s between appearances; the default is 60 s).
 */
import '../support/quiet-logs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListFacesCommand, RekognitionClient } from '@aws-sdk/client-rekognition';
import { streamCamera } from '../../local/kinesis-video/camera';
import { STRANGERS } from '../../local/demo/cast';
import { sleep, StackClient, type ProcessorView, type SightingItem, type VisitorItem } from '../../local/demo/harness';
import { buildVideo } from '../../local/demo/video';
import { LOCAL_CREDENTIALS, startLocalStack, type LocalStack } from '../../local/stack/stack';

jest.setTimeout(240_000);

const CAMERA = 'front-door';
const GAP_SECONDS = '3';

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(500);
  }
}

describe('recurring unknown visitors on the local stack', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-e2e-visitors-'));
  const videoFile = path.join(dataDir, 'stranger-comes-and-goes.mp4');
  let stack: LocalStack;
  let client: StackClient;
  let processor: ProcessorView;
  let visitor: VisitorItem;
  let since: Date;
  let camera = new AbortController();
  let streaming: Promise<unknown> | undefined;

  const stream = () => {
    camera = new AbortController();
    streaming = streamCamera({
      endpoint: stack.endpoint,
      streamName: processor.videoStream.name!,
      source: { file: videoFile, loop: true },
      region: stack.stackInfo.region,
      credentials: LOCAL_CREDENTIALS,
      signal: camera.signal,
    }).catch(() => undefined);
  };
  const stopStreaming = async () => {
    camera.abort();
    await streaming;
  };

  beforeAll(async () => {
    const [started] = await Promise.all([
      startLocalStack({
        dataDir,
        port: 0,
        apiPort: 0,
        mailPort: 0,
        quiet: true,
        print: () => undefined,
        // The visit gap of the deployment, shorter than the video's absences (as --param="visitGapSeconds=3" would set it).
        transformTemplate: (template) => {
          for (const id of ['ProcessVideoLambdaFunction', 'ConsumeFaceSearchLambdaFunction']) {
            (template.Resources[id].Properties!.Environment as { Variables: Record<string, unknown> }).Variables.VISIT_GAP_SECONDS = GAP_SECONDS;
          }
        },
      }),
      // Nobody is registered: a stranger in view for 3 s, then 5 s of empty corridor, looped.
      buildVideo(
        [
          { durationSec: 3, faces: [STRANGERS[0]] },
          { durationSec: 5, faces: [] },
        ],
        videoFile,
      ),
    ]);
    stack = started;
    client = new StackClient({ ...stack, dataDir, region: stack.stackInfo.region, credentials: LOCAL_CREDENTIALS });
    processor = await client.processor(CAMERA);
  });

  afterAll(async () => {
    await stopStreaming();
    client?.s3.destroy();
    client?.rekognition.destroy();
    await stack?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('given a stranger who comes and goes, then one stable visitor with a visit per appearance, whose sightings all carry its id, and a best snapshot', async () => {
    expect((await client.startProcessor(CAMERA)).state).toBe('RUNNING');
    since = new Date(Date.now() - 1000);
    stream();

    // three appearances are ~16 s of video: at least two visits counted by then
    visitor = await eventually(
      'a visitor with two visits',
      async () => {
        const visitors = await client.visitors();
        return visitors.find((v) => v.visits >= 2);
      },
      150_000,
    );
    const visitors = await client.visitors();
    expect(visitors.map((v) => v.visitorId)).toEqual([visitor.visitorId]);
    expect(visitor).toMatchObject({ visitorId: expect.stringMatching(/^v-[0-9a-f]{16}$/), lastSeenCamera: CAMERA, faces: 1 });
    expect(Date.parse(visitor.firstSeenAt)).toBeLessThan(Date.parse(visitor.lastSeenAt));

    // every unknown face of the camera is that visitor
    const sightings = await client.sightings(CAMERA, since);
    expect(sightings.length).toBeGreaterThan(10);
    expect(sightings.every((s: SightingItem) => s.personId === 'UNKNOWN')).toBe(true);
    expect(new Set(sightings.map((s) => s.visitorId).filter(Boolean))).toEqual(new Set([visitor.visitorId]));
    expect(sightings.filter((s) => s.visitorId).length).toBeGreaterThanOrEqual(0.9 * sightings.length);

    // its best snapshot is a JPEG behind a presigned link, as GET /visitors/{visitorId} gives it
    const one = await client.api<VisitorItem>('GET', `/visitors/${visitor.visitorId}`);
    expect(one.snapshotKey).toMatch(new RegExp(`^snapshots/${CAMERA}/[0-9a-f]{32}\\.jpg$`));
    const jpeg = await fetch(one.snapshotUrl!);
    expect(jpeg.ok).toBe(true);
    expect(Buffer.from(await jpeg.arrayBuffer()).subarray(0, 2).toString('hex')).toBe('ffd8');

    // one face in the visitors collection, under the visitor's id
    const rekognition = new RekognitionClient({ region: stack.stackInfo.region, endpoint: stack.endpoint, credentials: LOCAL_CREDENTIALS });
    const { Faces = [] } = await rekognition.send(new ListFacesCommand({ CollectionId: stack.stackInfo.resources.VisitorCollection.ref })).finally(() => rekognition.destroy());
    expect(Faces.map((f) => f.ExternalImageId)).toEqual([visitor.visitorId]);
  });

  it('when the visitor is named, then their best snapshot registers a new person, their sightings become the person\'s, and the visitor is gone', async () => {
    expect((await client.stopProcessor(CAMERA)).state).toBe('STOPPED');
    await stopStreaming();
    await sleep(2000); // the consumer has the last records
    const before = (await client.sightings(CAMERA, since)).filter((s) => s.visitorId === visitor.visitorId);

    const naming = await client.api<{ visitorId: string; personId: string; displayName: string; photoKey: string; sightingsMoved: number; facesRemoved: number }>(
      'POST',
      `/visitors/${visitor.visitorId}/name`,
      { name: 'Visitor Named' },
    );

    expect(naming).toEqual({
      visitorId: visitor.visitorId,
      personId: 'Visitor-Named:' + naming.personId.split(':')[1],
      displayName: 'Visitor Named',
      photoKey: `faces/Visitor Named/visitor-${visitor.visitorId}.jpg`,
      sightingsMoved: before.length,
      facesRemoved: 1,
    });
    // the indexer registered the photo (the S3 event of the copy): a face of the new person
    const person = await client.waitForFace('Visitor Named', naming.photoKey);
    expect(person.personId).toBe(naming.personId);
    // the sightings are the person's now
    const after = await client.sightings(CAMERA, since);
    expect(after.filter((s) => s.personId === naming.personId).map((s) => s.sightingId).sort()).toEqual(before.map((s) => s.sightingId).sort());
    expect(after.some((s) => s.visitorId)).toBe(false);
    expect(await client.visitors()).toEqual([]);
    await expect(client.api('GET', `/visitors/${visitor.visitorId}`)).rejects.toThrow(/HTTP 404/);
  });

  it('when the stranger comes back, then they are recognised as the person named from the visitor, and no visitor starts', async () => {
    const personId = (await client.people()).find((p) => p.displayName === 'Visitor Named')!.personId;
    const back = new Date(Date.now() - 1000);
    expect((await client.startProcessor(CAMERA)).state).toBe('RUNNING');
    stream();

    const recognised = await eventually(
      'a sighting of the named person',
      async () => {
        const seen = (await client.sightings(CAMERA, back)).filter((s) => s.personId === personId);
        return seen.length >= 3 ? seen : undefined;
      },
      120_000,
    );
    expect(recognised.every((s) => (s.similarity ?? 0) >= 85.5 && !s.visitorId)).toBe(true);
    expect(await client.visitors()).toEqual([]);
  });
});
