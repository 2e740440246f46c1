/**
 * The local Rekognition through the real AWS SDK client, on real photos (dlib's examples): collections,
 * IndexFaces / SearchFacesByImage / SearchFaces / DetectFaces / ListFaces / DeleteFaces, S3 images from
 * s3rver, AWS's errors, stream processors, persistence across restarts and concurrent requests.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import {
  CreateCollectionCommand,
  CreateStreamProcessorCommand,
  DeleteCollectionCommand,
  DeleteFacesCommand,
  DeleteStreamProcessorCommand,
  DescribeCollectionCommand,
  DescribeStreamProcessorCommand,
  DetectFacesCommand,
  ImageTooLargeException,
  IndexFacesCommand,
  InvalidImageFormatException,
  InvalidPaginationTokenException,
  InvalidParameterException,
  InvalidS3ObjectException,
  LimitExceededException,
  ListCollectionsCommand,
  ListFacesCommand,
  ListStreamProcessorsCommand,
  RekognitionClient,
  RekognitionServiceException,
  ResourceAlreadyExistsException,
  ResourceInUseException,
  ResourceNotFoundException,
  SearchFacesByImageCommand,
  SearchFacesCommand,
  StartStreamProcessorCommand,
  StopStreamProcessorCommand,
  type BoundingBox,
  type CreateStreamProcessorCommandInput,
} from '@aws-sdk/client-rekognition';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startRekognitionServer, type RunningRekognition } from '../../../local/rekognition/server';
import type { StreamProcessorRunner } from '../../../local/rekognition/stream-processors';
import { BALD_GUYS, describeWithDlib, dlibLabelledBoxes, nearestBaldGuy, type BaldGuy } from '../../support/dlib';

jest.setTimeout(120_000);

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver: new (options: Record<string, unknown>) => S3rverInstance = require('s3rver');

const iou = (a: BoundingBox, b: BoundingBox) => {
  const x0 = Math.max(a.Left!, b.Left!);
  const y0 = Math.max(a.Top!, b.Top!);
  const x1 = Math.min(a.Left! + a.Width!, b.Left! + b.Width!);
  const y1 = Math.min(a.Top! + a.Height!, b.Top! + b.Height!);
  const i = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  return i / (a.Width! * a.Height! + b.Width! * b.Height! - i);
};

async function expectError<T>(p: Promise<unknown>, cls: abstract new (...args: never[]) => T, name?: string): Promise<T> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(cls);
  if (name) expect((err as Error).name).toBe(name);
  expect((err as RekognitionServiceException).$metadata.httpStatusCode).toBe(400);
  return err as T;
}

describeWithDlib('local Rekognition service (real faces, real SDK)', (dir) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rekognition-it-'));
  const dataDir = path.join(tmp, 'data');
  let s3rver: S3rverInstance;
  let s3: S3Client;
  let s3Endpoint: string;
  let server: RunningRekognition;
  let client: RekognitionClient;
  /** The 24 photos of bald_guys.jpg cut out as separate JPEGs, with who they show. */
  const photos: { person: BaldGuy; jpeg: Buffer }[] = [];
  const read = (f: string) => fs.readFileSync(path.join(dir, f));

  const start = async () => {
    server = await startRekognitionServer({ port: 0, host: '127.0.0.1', dataDir, s3Endpoint, region: 'us-east-1', workers: 2 });
    client = new RekognitionClient({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'secret' } });
  };

  beforeAll(async () => {
    s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: path.join(tmp, 's3') });
    const { port } = await s3rver.run();
    s3Endpoint = `http://127.0.0.1:${port}`;
    s3 = new S3Client({
      endpoint: s3Endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'faces' }));
    await start();
    // Cut the collage into its 24 photos around the faces DetectFaces finds, labelled from the ground truth.
    const collage = read('bald_guys.jpg');
    const { width, height } = await sharp(collage).metadata();
    const detected = await client.send(new DetectFacesCommand({ Image: { Bytes: collage } }));
    const seen = new Set<number>();
    for (const f of detected.FaceDetails ?? []) {
      const b = f.BoundingBox!;
      const cx = (b.Left! + b.Width! / 2) * width!;
      const cy = (b.Top! + b.Height! / 2) * height!;
      const i = nearestBaldGuy(cx, cy);
      if (i < 0 || seen.has(i)) continue;
      seen.add(i);
      const side = Math.max(b.Width! * width!, b.Height! * height!) * 1.6;
      const left = Math.max(0, Math.round(cx - side / 2));
      const top = Math.max(0, Math.round(cy - side / 2));
      const jpeg = await sharp(collage)
        .extract({ left, top, width: Math.min(width! - left, Math.round(side)), height: Math.min(height! - top, Math.round(side)) })
        .resize({ width: 320, height: 320, fit: 'inside', withoutEnlargement: false })
        .jpeg({ quality: 92 })
        .toBuffer();
      photos[i] = { person: BALD_GUYS[i].person, jpeg };
    }
  });

  afterAll(async () => {
    await server?.close();
    await s3rver?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('DetectFaces finds all 24 photographed faces of bald_guys.jpg', () => {
    expect(photos.filter(Boolean)).toHaveLength(24);
  });

  test('collections: create, duplicate, describe, list with pagination, delete', async () => {
    // When a collection is created
    const created = await client.send(new CreateCollectionCommand({ CollectionId: 'col-a' }));
    // Then it answers its ARN and face model version
    expect(created.StatusCode).toBe(200);
    expect(created.CollectionArn).toBe('arn:aws:rekognition:us-east-1:000000000000:collection/col-a');
    expect(created.FaceModelVersion).toBeTruthy();
    // When it is created again, then it already exists
    await expectError(client.send(new CreateCollectionCommand({ CollectionId: 'col-a' })), ResourceAlreadyExistsException);
    // Given two more collections
    await client.send(new CreateCollectionCommand({ CollectionId: 'col-b' }));
    await client.send(new CreateCollectionCommand({ CollectionId: 'col-c' }));
    // When the first is described, then it is empty, with its ARN and creation time
    const d = await client.send(new DescribeCollectionCommand({ CollectionId: 'col-a' }));
    expect(d.FaceCount).toBe(0);
    expect(d.CollectionARN).toBe(created.CollectionArn);
    expect(d.CreationTimestamp).toBeInstanceOf(Date);
    expect(Math.abs(d.CreationTimestamp!.getTime() - Date.now())).toBeLessThan(60_000);
    // When they are listed two by two, then two pages hold all three; a made-up token is refused
    const page1 = await client.send(new ListCollectionsCommand({ MaxResults: 2 }));
    expect(page1.CollectionIds).toHaveLength(2);
    expect(page1.NextToken).toBeTruthy();
    const page2 = await client.send(new ListCollectionsCommand({ MaxResults: 2, NextToken: page1.NextToken }));
    expect([...page1.CollectionIds!, ...page2.CollectionIds!]).toEqual(expect.arrayContaining(['col-a', 'col-b', 'col-c']));
    await expectError(client.send(new ListCollectionsCommand({ NextToken: 'garbage' })), InvalidPaginationTokenException);
    // When one is deleted, then it is gone and a second delete finds nothing
    await client.send(new DeleteCollectionCommand({ CollectionId: 'col-b' }));
    await expectError(client.send(new DescribeCollectionCommand({ CollectionId: 'col-b' })), ResourceNotFoundException);
    await expectError(client.send(new DeleteCollectionCommand({ CollectionId: 'col-b' })), ResourceNotFoundException);
    // When an id has a character AWS refuses, then it is a ValidationException
    await expectError(client.send(new CreateCollectionCommand({ CollectionId: 'bad/id' })), RekognitionServiceException, 'ValidationException');
  });

  test('bald_guys: one photo per person indexed, each of the other 20 finds the right person first', async () => {
    // Given one photo of each of the four people indexed, with every attribute
    await client.send(new CreateCollectionCommand({ CollectionId: 'bald' }));
    const people: BaldGuy[] = ['vin', 'statham', 'willis', 'rock'];
    const gallery = people.map((p) => photos.findIndex((x) => x.person === p));
    for (const i of gallery) {
      const r = await client.send(
        new IndexFacesCommand({
          CollectionId: 'bald',
          Image: { Bytes: photos[i].jpeg },
          ExternalImageId: photos[i].person,
          MaxFaces: 1,
          QualityFilter: 'AUTO',
          DetectionAttributes: ['ALL'],
        }),
      );
      expect(r.FaceRecords).toHaveLength(1);
      const detail = r.FaceRecords![0].FaceDetail!;
      expect(detail.Landmarks!.length).toBe(30);
      expect(detail.AgeRange!.Low!).toBeLessThan(detail.AgeRange!.High!);
      expect(detail.Gender!.Value).toBe('Male');
      expect(detail.Emotions!.length).toBeGreaterThan(0);
      expect(detail.Quality!.Sharpness).toBeGreaterThan(0);
      expect(r.FaceRecords![0].Face!.ExternalImageId).toBe(photos[i].person);
    }
    // When each of the other 20 photos is searched for among them
    const sameSims: number[] = [];
    const diffSims: number[] = [];
    let correct = 0;
    const queries = photos.map((p, i) => ({ ...p, i })).filter((p) => !gallery.includes(p.i));
    expect(queries).toHaveLength(20);
    await Promise.all(
      queries.map(async (q) => {
        const r = await client.send(
          new SearchFacesByImageCommand({ CollectionId: 'bald', Image: { Bytes: q.jpeg }, FaceMatchThreshold: 0, MaxFaces: 4 }),
        );
        expect(r.FaceMatches).toHaveLength(4);
        if (r.FaceMatches![0].Face!.ExternalImageId === q.person && r.FaceMatches![0].Similarity! >= 80) correct++;
        for (const m of r.FaceMatches!) (m.Face!.ExternalImageId === q.person ? sameSims : diffSims).push(m.Similarity!);
      }),
    );
    // Then each finds its person first, same-person similarities are high and different-person ones low
    const sameOk = sameSims.filter((s) => s >= 85.5).length / sameSims.length;
    const diffBad = diffSims.filter((s) => s >= 80).length / diffSims.length;
    console.log(
      `bald_guys via the service: rank-1 correct ${correct}/20; same-person ≥85.5: ${(sameOk * 100).toFixed(1)}% (min ${Math.min(...sameSims).toFixed(1)}); ` +
        `different-person ≥80: ${(diffBad * 100).toFixed(1)}% (max ${Math.max(...diffSims).toFixed(1)})`,
    );
    expect(correct).toBe(20);
    expect(sameOk).toBeGreaterThanOrEqual(0.85);
    expect(diffBad).toBeLessThanOrEqual(0.05);
    // When a typical photo is searched with the default threshold (80), then its person is kept and the others dropped
    const r = await client.send(new SearchFacesByImageCommand({ CollectionId: 'bald', Image: { Bytes: queries[0].jpeg } }));
    expect(r.FaceMatches!.map((m) => m.Face!.ExternalImageId)).toEqual([queries[0].person]);
  });

  test('IndexFaces: no duplicate for the same image + ExternalImageId; SearchFaces; ListFaces pages; DeleteFaces', async () => {
    // Given a collection
    await client.send(new CreateCollectionCommand({ CollectionId: 'faces' }));
    const vin = photos.filter((p) => p.person === 'vin');
    // When the same image is indexed twice with the same ExternalImageId, then it is one face
    const first = await client.send(new IndexFacesCommand({ CollectionId: 'faces', Image: { Bytes: vin[0].jpeg }, ExternalImageId: 'vin:1', MaxFaces: 1 }));
    const again = await client.send(new IndexFacesCommand({ CollectionId: 'faces', Image: { Bytes: vin[0].jpeg }, ExternalImageId: 'vin:1', MaxFaces: 1 }));
    expect(again.FaceRecords![0].Face!.FaceId).toBe(first.FaceRecords![0].Face!.FaceId);
    expect(again.FaceRecords![0].Face!.ImageId).toBe(first.FaceRecords![0].Face!.ImageId);
    expect((await client.send(new DescribeCollectionCommand({ CollectionId: 'faces' }))).FaceCount).toBe(1);
    // When it is indexed with another ExternalImageId, then it is another face
    const other = await client.send(new IndexFacesCommand({ CollectionId: 'faces', Image: { Bytes: vin[0].jpeg }, ExternalImageId: 'vin:other', MaxFaces: 1 }));
    expect(other.FaceRecords![0].Face!.FaceId).not.toBe(first.FaceRecords![0].Face!.FaceId);
    // Given another photo of the same person and one of someone else
    const second = await client.send(new IndexFacesCommand({ CollectionId: 'faces', Image: { Bytes: vin[1].jpeg }, ExternalImageId: 'vin:2' }));
    const rock = await client.send(new IndexFacesCommand({ CollectionId: 'faces', Image: { Bytes: photos.find((p) => p.person === 'rock')!.jpeg }, ExternalImageId: 'rock' }));
    const firstId = first.FaceRecords![0].Face!.FaceId!;
    // When a face is searched by its id, then the same person's faces match (not itself, not the other person)
    const s = await client.send(new SearchFacesCommand({ CollectionId: 'faces', FaceId: firstId }));
    expect(s.SearchedFaceId).toBe(firstId);
    const ids = s.FaceMatches!.map((m) => m.Face!.FaceId);
    expect(ids).not.toContain(firstId);
    expect(ids).toContain(second.FaceRecords![0].Face!.FaceId);
    expect(ids).toContain(other.FaceRecords![0].Face!.FaceId);
    expect(ids).not.toContain(rock.FaceRecords![0].Face!.FaceId);
    // When the face id is not in the collection, then the request is refused
    await expectError(client.send(new SearchFacesCommand({ CollectionId: 'faces', FaceId: '00000000-0000-0000-0000-000000000000' })), InvalidParameterException);

    // When the faces are listed three by three, then two pages hold the four faces once each; a made-up token is refused
    const all: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(new ListFacesCommand({ CollectionId: 'faces', MaxResults: 3, NextToken: token }));
      all.push(...page.Faces!.map((f) => f.FaceId!));
      token = page.NextToken;
      pages++;
    } while (token);
    expect(all).toHaveLength(4);
    expect(new Set(all).size).toBe(4);
    expect(pages).toBe(2);
    await expectError(client.send(new ListFacesCommand({ CollectionId: 'faces', NextToken: 'bm9wZQ==' })), InvalidPaginationTokenException);

    // When a face and a face that does not exist are deleted, then the first is deleted and the other reported not found
    const missing = '11111111-2222-3333-4444-555555555555';
    const del = await client.send(new DeleteFacesCommand({ CollectionId: 'faces', FaceIds: [firstId, missing] }));
    expect(del.DeletedFaces).toEqual([firstId]);
    expect(del.UnsuccessfulFaceDeletions).toEqual([{ FaceId: missing, Reasons: ['FACE_NOT_FOUND'] }]);
    expect((await client.send(new DescribeCollectionCommand({ CollectionId: 'faces' }))).FaceCount).toBe(3);
  });

  test('DetectFaces: recall ≥ 95% at IoU 0.5 on dlib PASCAL photos; dogs.jpg has no face', async () => {
    // Given dlib's PASCAL photos and their labelled faces
    const labelled = dlibLabelledBoxes(dir);
    let total = 0;
    let found = 0;
    // When faces are detected in each
    await Promise.all(
      [...labelled].map(async ([file, boxes]) => {
        const { width, height } = await sharp(read(file)).metadata();
        const r = await client.send(new DetectFacesCommand({ Image: { Bytes: read(file) } }));
        for (const b of boxes) {
          total++;
          const truth = { Left: b.x / width!, Top: b.y / height!, Width: b.width / width!, Height: b.height / height! };
          if ((r.FaceDetails ?? []).some((f) => iou(f.BoundingBox!, truth) >= 0.5)) found++;
        }
      }),
    );
    // Then at least 95% of the labelled faces are found
    console.log(`dlib PASCAL detection recall at IoU 0.5: ${found}/${total}`);
    expect(total).toBe(43);
    expect(found / total).toBeGreaterThanOrEqual(0.95);
    // When the photo has dogs and no face, then none is found and a search is refused
    const dogs = await client.send(new DetectFacesCommand({ Image: { Bytes: read('dogs.jpg') } }));
    expect(dogs.FaceDetails).toEqual([]);
    await expectError(client.send(new SearchFacesByImageCommand({ CollectionId: 'bald', Image: { Bytes: read('dogs.jpg') } })), InvalidParameterException);
  });

  test('MaxFaces, QualityFilter and the largest face', async () => {
    // Given a group photo of 6 small faces
    await client.send(new CreateCollectionCommand({ CollectionId: 'group' }));
    const group = read('2008_002470.jpg'); // 6 small faces
    // When at most 2 faces are indexed, then the other 4 exceed MaxFaces
    const one = await client.send(new IndexFacesCommand({ CollectionId: 'group', Image: { Bytes: group }, MaxFaces: 2, QualityFilter: 'NONE' }));
    expect(one.FaceRecords).toHaveLength(2);
    const exceeded = one.UnindexedFaces!.filter((u) => u.Reasons!.includes('EXCEEDS_MAX_FACES'));
    expect(exceeded).toHaveLength(4);
    // The kept faces are the largest ones.
    const areas = (bb: BoundingBox) => bb.Width! * bb.Height!;
    const minKept = Math.min(...one.FaceRecords!.map((f) => areas(f.Face!.BoundingBox!)));
    expect(Math.max(...exceeded.map((u) => areas(u.FaceDetail!.BoundingBox!)))).toBeLessThanOrEqual(minKept);
    // When indexed with the HIGH quality filter, then some faces are refused for their quality
    const high = await client.send(new IndexFacesCommand({ CollectionId: 'group', Image: { Bytes: group }, ExternalImageId: 'strict', QualityFilter: 'HIGH' }));
    const reasons = new Set(high.UnindexedFaces!.flatMap((u) => u.Reasons!));
    expect(high.UnindexedFaces!.length).toBeGreaterThan(0);
    expect([...reasons].some((r) => ['LOW_SHARPNESS', 'SMALL_BOUNDING_BOX', 'LOW_FACE_QUALITY'].includes(r))).toBe(true);
    // SearchFacesByImage reports the largest face of a group photo.
    const detect = await client.send(new DetectFacesCommand({ Image: { Bytes: group } }));
    const largest = detect.FaceDetails!.reduce((m, f) => (areas(f.BoundingBox!) > areas(m.BoundingBox!) ? f : m));
    const search = await client.send(new SearchFacesByImageCommand({ CollectionId: 'group', Image: { Bytes: group } }));
    expect(iou(search.SearchedFaceBoundingBox!, largest.BoundingBox!)).toBeGreaterThan(0.9);
    expect(search.FaceMatches![0].Similarity!).toBeGreaterThan(99);
    // DEFAULT attributes: 5 landmarks, pose, quality; no AgeRange.
    const d = detect.FaceDetails![0];
    expect(d.Landmarks!.map((l) => l.Type).sort()).toEqual(['eyeLeft', 'eyeRight', 'mouthLeft', 'mouthRight', 'nose']);
    expect(d.Pose).toBeDefined();
    expect(d.AgeRange).toBeUndefined();
    const named = await client.send(new DetectFacesCommand({ Image: { Bytes: photos[0].jpeg }, Attributes: ['EMOTIONS', 'EYES_OPEN'] }));
    expect(named.FaceDetails![0].Emotions).toBeDefined();
    expect(named.FaceDetails![0].EyesOpen!.Value).toBe(true);
    expect(named.FaceDetails![0].AgeRange).toBeUndefined();
  });

  test('images from S3 (s3rver) and image errors', async () => {
    // Given a photo in S3
    await client.send(new CreateCollectionCommand({ CollectionId: 's3col' }));
    await s3.send(new PutObjectCommand({ Bucket: 'faces', Key: 'people/statham.jpg', Body: photos.find((p) => p.person === 'statham')!.jpeg }));
    // When it is indexed from S3, then its face is indexed
    const r = await client.send(
      new IndexFacesCommand({ CollectionId: 's3col', Image: { S3Object: { Bucket: 'faces', Name: 'people/statham.jpg' } }, ExternalImageId: 'Jhb', MaxFaces: 1, QualityFilter: 'AUTO', DetectionAttributes: ['ALL'] }),
    );
    expect(r.FaceRecords).toHaveLength(1);
    // When the object or the bucket does not exist, then the S3 object is invalid
    await expectError(client.send(new IndexFacesCommand({ CollectionId: 's3col', Image: { S3Object: { Bucket: 'faces', Name: 'nope.jpg' } } })), InvalidS3ObjectException);
    await expectError(client.send(new IndexFacesCommand({ CollectionId: 's3col', Image: { S3Object: { Bucket: 'no-bucket', Name: 'x.jpg' } } })), InvalidS3ObjectException);
    // When an S3 image is over 15 MB, then it is too large
    const big = Buffer.alloc(15 * 1024 * 1024 + 10);
    big.set([0xff, 0xd8, 0xff, 0xe0]);
    await s3.send(new PutObjectCommand({ Bucket: 'faces', Key: 'big.jpg', Body: big }));
    await expectError(client.send(new DetectFacesCommand({ Image: { S3Object: { Bucket: 'faces', Name: 'big.jpg' } } })), ImageTooLargeException);
    // Bytes over 5 MB
    const over5 = Buffer.alloc(5 * 1024 * 1024 + 10);
    over5.set([0xff, 0xd8, 0xff, 0xe0]);
    await expectError(client.send(new DetectFacesCommand({ Image: { Bytes: over5 } })), ImageTooLargeException);
    // Not JPEG/PNG (a GIF), garbage, and too small
    const gif = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#888' } }).gif().toBuffer();
    await expectError(client.send(new DetectFacesCommand({ Image: { Bytes: gif } })), InvalidImageFormatException);
    await expectError(client.send(new DetectFacesCommand({ Image: { Bytes: Buffer.from('hello world') } })), InvalidImageFormatException);
    const tiny = await sharp(photos[0].jpeg).resize(60, 60).png().toBuffer();
    await expectError(client.send(new DetectFacesCommand({ Image: { Bytes: tiny } })), InvalidParameterException);
    await expectError(client.send(new DetectFacesCommand({ Image: {} })), InvalidParameterException);
  });

  test('validation errors as AWS gives them', async () => {
    // Given a photo
    const img = { Bytes: photos[0].jpeg };
    // When a parameter is out of AWS's bounds, then it is a ValidationException naming it
    const bad = await expectError(
      client.send(new IndexFacesCommand({ CollectionId: 's3col', Image: img, ExternalImageId: 'has space' })),
      RekognitionServiceException,
      'ValidationException',
    );
    expect((bad as Error).message).toMatch(/externalImageId/);
    await expectError(client.send(new IndexFacesCommand({ CollectionId: 's3col', Image: img, ExternalImageId: 'x'.repeat(256) })), RekognitionServiceException, 'ValidationException');
    await expectError(client.send(new IndexFacesCommand({ CollectionId: 's3col', Image: img, MaxFaces: 0 })), RekognitionServiceException, 'ValidationException');
    await expectError(client.send(new SearchFacesByImageCommand({ CollectionId: 's3col', Image: img, MaxFaces: 5000 })), RekognitionServiceException, 'ValidationException');
    await expectError(client.send(new SearchFacesByImageCommand({ CollectionId: 's3col', Image: img, FaceMatchThreshold: 101 })), RekognitionServiceException, 'ValidationException');
    await expectError(client.send(new IndexFacesCommand({ CollectionId: 's3col', Image: img, QualityFilter: 'BEST' as never })), RekognitionServiceException, 'ValidationException');
    // When the collection does not exist, then it is not found
    await expectError(client.send(new IndexFacesCommand({ CollectionId: 'missing', Image: img })), ResourceNotFoundException);
    await expectError(client.send(new SearchFacesByImageCommand({ CollectionId: 'missing', Image: img })), ResourceNotFoundException);
    await expectError(client.send(new ListFacesCommand({ CollectionId: 'missing' })), ResourceNotFoundException);
    // When a face id is not a UUID, then it is a ValidationException
    await expectError(client.send(new DeleteFacesCommand({ CollectionId: 's3col', FaceIds: ['not-a-uuid'] })), RekognitionServiceException, 'ValidationException');
  });

  test('stream processors: states, validation, uniqueness, pagination, pluggable runner', async () => {
    // Given processor definitions, each on its own video and data stream
    const input = (n: number, threshold?: number): CreateStreamProcessorCommandInput => ({
      Name: `proc-${n}`,
      Input: { KinesisVideoStream: { Arn: `arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam${n}/1700000000000` } },
      Output: { KinesisDataStream: { Arn: `arn:aws:kinesis:us-east-1:000000000000:stream/results${n}` } },
      RoleArn: 'arn:aws:iam::000000000000:role/RekognitionRole',
      Settings: { FaceSearch: { CollectionId: 'bald', FaceMatchThreshold: threshold } },
    });
    // When a processor is created below the minimum threshold, then it is STOPPED with threshold 80
    const created = await client.send(new CreateStreamProcessorCommand(input(1, 50)));
    expect(created.StreamProcessorArn).toBe('arn:aws:rekognition:us-east-1:000000000000:streamprocessor/proc-1');
    let d = await client.send(new DescribeStreamProcessorCommand({ Name: 'proc-1' }));
    expect(d.Status).toBe('STOPPED');
    expect(d.Settings!.FaceSearch!.FaceMatchThreshold).toBe(80);
    expect(d.CreationTimestamp).toBeInstanceOf(Date);
    // When another uses its name, video stream or data stream, or a name AWS refuses, then it is not created
    await expectError(client.send(new CreateStreamProcessorCommand(input(1))), ResourceInUseException);
    await expectError(client.send(new CreateStreamProcessorCommand({ ...input(2), Input: input(1).Input })), ResourceInUseException);
    await expectError(client.send(new CreateStreamProcessorCommand({ ...input(2), Output: input(1).Output })), ResourceInUseException);
    await expectError(client.send(new CreateStreamProcessorCommand({ ...input(2), Name: 'bad name!' })), RekognitionServiceException, 'ValidationException');
    await expectError(client.send(new CreateStreamProcessorCommand({ ...input(2), Name: 'x'.repeat(129) })), RekognitionServiceException, 'ValidationException');
    // When created with 85.5, then it keeps 85.5
    await client.send(new CreateStreamProcessorCommand(input(2, 85.5)));
    d = await client.send(new DescribeStreamProcessorCommand({ Name: 'proc-2' }));
    expect(d.Settings!.FaceSearch!.FaceMatchThreshold).toBe(85.5);

    // When started, then it is RUNNING with a session; starting it again, deleting it, stopping a stopped one or starting a missing one is refused
    const started = await client.send(new StartStreamProcessorCommand({ Name: 'proc-1' }));
    expect(started.SessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await client.send(new DescribeStreamProcessorCommand({ Name: 'proc-1' }))).Status).toBe('RUNNING');
    await expectError(client.send(new StartStreamProcessorCommand({ Name: 'proc-1' })), ResourceInUseException);
    await expectError(client.send(new DeleteStreamProcessorCommand({ Name: 'proc-1' })), ResourceInUseException);
    await expectError(client.send(new StopStreamProcessorCommand({ Name: 'proc-2' })), ResourceInUseException);
    await expectError(client.send(new StartStreamProcessorCommand({ Name: 'nope' })), ResourceNotFoundException);
    // When stopped, then it is STOPPED
    await client.send(new StopStreamProcessorCommand({ Name: 'proc-1' }));
    expect((await client.send(new DescribeStreamProcessorCommand({ Name: 'proc-1' }))).Status).toBe('STOPPED');

    // A slow runner: STARTING until it has started; a failing runner: FAILED with its message.
    let release!: () => void;
    const calls: string[] = [];
    const slow: StreamProcessorRunner = {
      start: (p) => {
        calls.push(`start:${p.Name}`);
        return new Promise<void>((resolve) => (release = resolve));
      },
      stop: (p) => {
        calls.push(`stop:${p.Name}`);
      },
    };
    // When the runner is slow, then the processor is STARTING until the runner has started
    server.service.setRunner(slow);
    await client.send(new StartStreamProcessorCommand({ Name: 'proc-2' }));
    expect((await client.send(new DescribeStreamProcessorCommand({ Name: 'proc-2' }))).Status).toBe('STARTING');
    release();
    await new Promise((r) => setTimeout(r, 20));
    expect((await client.send(new DescribeStreamProcessorCommand({ Name: 'proc-2' }))).Status).toBe('RUNNING');
    // When stopped, then the runner was started and stopped once
    await client.send(new StopStreamProcessorCommand({ Name: 'proc-2' }));
    expect(calls).toEqual(['start:proc-2', 'stop:proc-2']);
    // When the runner fails, then the processor is FAILED with its message
    server.service.setRunner({ start: () => Promise.reject(new Error('Kinesis video stream cam2 does not exist')), stop: () => undefined });
    await client.send(new StartStreamProcessorCommand({ Name: 'proc-2' }));
    await new Promise((r) => setTimeout(r, 20));
    d = await client.send(new DescribeStreamProcessorCommand({ Name: 'proc-2' }));
    expect(d.Status).toBe('FAILED');
    expect(d.StatusMessage).toMatch(/does not exist/);
    server.service.setRunner({ start: () => undefined, stop: () => undefined });

    // When its collection does not exist, then it is FAILED on start, naming it
    await client.send(new CreateStreamProcessorCommand({ ...input(3), Settings: { FaceSearch: { CollectionId: 'gone' } } }));
    await client.send(new StartStreamProcessorCommand({ Name: 'proc-3' }));
    d = await client.send(new DescribeStreamProcessorCommand({ Name: 'proc-3' }));
    expect(d.Status).toBe('FAILED');
    expect(d.StatusMessage).toMatch(/gone/);

    // When 10 processors run, then an 11th cannot start
    for (let n = 10; n < 21; n++) await client.send(new CreateStreamProcessorCommand(input(n)));
    for (let n = 10; n < 20; n++) await client.send(new StartStreamProcessorCommand({ Name: `proc-${n}` }));
    await expectError(client.send(new StartStreamProcessorCommand({ Name: 'proc-20' })), LimitExceededException);
    for (let n = 10; n < 20; n++) await client.send(new StopStreamProcessorCommand({ Name: `proc-${n}` }));

    // When they are listed five by five, then every processor is listed once; a made-up token is refused
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListStreamProcessorsCommand({ MaxResults: 5, NextToken: token }));
      names.push(...page.StreamProcessors!.map((p) => p.Name!));
      token = page.NextToken;
    } while (token);
    expect(names).toHaveLength(14);
    await expectError(client.send(new ListStreamProcessorsCommand({ NextToken: 'x' })), InvalidPaginationTokenException);

    // When one is deleted, then it is not found
    await client.send(new DeleteStreamProcessorCommand({ Name: 'proc-1' }));
    await expectError(client.send(new DescribeStreamProcessorCommand({ Name: 'proc-1' })), ResourceNotFoundException);
  });

  test('concurrent IndexFaces into one collection, then state survives a restart', async () => {
    // Given a collection
    await client.send(new CreateCollectionCommand({ CollectionId: 'concurrent' }));
    // When 12 photos are indexed into it at once
    const results = await Promise.all(
      photos.slice(0, 12).map((p, i) =>
        client.send(new IndexFacesCommand({ CollectionId: 'concurrent', Image: { Bytes: p.jpeg }, ExternalImageId: `${p.person}-${i}`, MaxFaces: 1 })),
      ),
    );
    // Then each has its own face id and the collection counts 12
    const ids = results.map((r) => r.FaceRecords![0].Face!.FaceId!);
    expect(new Set(ids).size).toBe(12);
    expect((await client.send(new DescribeCollectionCommand({ CollectionId: 'concurrent' }))).FaceCount).toBe(12);

    // When the service restarts on the same data
    await server.close();
    await start();
    // Then its collections, faces and stream processors are as they were
    expect((await client.send(new DescribeCollectionCommand({ CollectionId: 'concurrent' }))).FaceCount).toBe(12);
    expect((await client.send(new DescribeCollectionCommand({ CollectionId: 'faces' }))).FaceCount).toBe(3);
    const search = await client.send(new SearchFacesByImageCommand({ CollectionId: 'bald', Image: { Bytes: photos[photos.length - 1].jpeg } }));
    expect(search.FaceMatches![0].Face!.ExternalImageId).toBe(photos[photos.length - 1].person);
    expect((await client.send(new DescribeStreamProcessorCommand({ Name: 'proc-2' }))).Status).toBe('FAILED');
    const list = await client.send(new ListStreamProcessorsCommand({}));
    expect(list.StreamProcessors!.length).toBe(13);
  });
});
