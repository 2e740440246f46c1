/**
 * The visitor routes in-process against dynalite, s3rver and the local Rekognition (a real face engine), as on the
 * local stack (bearer token): two strangers' faces (dlib's photos) are visitors, kept as the processor and the
 * consumer keep them (their faces in the visitors collection, their snapshots in the bucket, their sightings and
 * records in the tables). One is named — their snapshot is indexed by the real indexer as the new person's face —
 * the other erased; then the named person is erased, leftovers of the visitor included.
 */
import '../../support/quiet-logs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import sharp from 'sharp';
import { ListFacesCommand } from '@aws-sdk/client-rekognition';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { S3Event } from 'aws-lambda';
import { RekognitionVisitorFaces } from '../../../shared/adapters/rekognition-visitor-faces';
import { DynamoVisitors } from '../../../shared/adapters/visitor-store';
import { snapshotKeyOf } from '../../../shared/domain/snapshot-key';
import { personIdFromName } from '../../../shared/domain/person-id';
import { invoke, type ApiRequest } from '../../support/api-events';
import { BALD_GUYS, dlibFaces } from '../../support/dlib';
import { cameraResourcesEnv, createFacesBucket, createTables, startLocalAws, type LocalAws } from '../../support/local-aws';
import { createCollection, startLocalRekognition, type LocalRekognition } from '../../support/local-rekognition';
import { sighting } from '../../support/people-fakes';
import { s3Event, s3Record } from '../../support/s3-events';

jest.setTimeout(120_000);

const STAGE = 'visitorapi';
const COLLECTION = `facewatch-${STAGE}-faces`;
const VISITORS = `facewatch-${STAGE}-visitors`;
const TOKEN = 'integration-token';
const faces = dlibFaces();
const withFaces = faces ? describe : describe.skip;

type Handler = Parameters<typeof invoke>[0];

/** A face of bald_guys.jpg as the processor's snapshot crops it: the face with padding around it. */
async function snapshotOf(index: number): Promise<Buffer> {
  const { x, y } = BALD_GUYS[index];
  return sharp(path.join(faces!, 'bald_guys.jpg'))
    .extract({ left: x - 130, top: y - 130, width: 260, height: 260 })
    .resize(240, 240)
    .jpeg({ quality: 90 })
    .toBuffer();
}

withFaces('visitor routes against local services, real faces', () => {
  let aws: LocalAws;
  let rekognition: LocalRekognition;
  let tables: Record<string, string>;
  let bucket: string;
  const api: Record<string, Handler> = {};
  let indexFace: (event: S3Event) => Promise<unknown>;
  const visitor: Record<'rock' | 'willis', { id: string; sightings: string[] }> = { rock: { id: '', sightings: [] }, willis: { id: '', sightings: [] } };

  const call = (name: string, request: Omit<ApiRequest, 'headers' | 'iam'>) => invoke(api[name], { iam: false, ...request, headers: { authorization: `Bearer ${TOKEN}` } });
  const visitorFaces = async () => ((await rekognition.client.send(new ListFacesCommand({ CollectionId: VISITORS }))).Faces ?? []).map((f) => f.ExternalImageId);
  const exists = (key: string) => aws.s3!.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, () => false);

  beforeAll(async () => {
    aws = await startLocalAws({ dynamodb: true, s3: true });
    tables = await createTables(aws.dynamodb, STAGE);
    bucket = await createFacesBucket(aws.s3!, STAGE);
    rekognition = await startLocalRekognition({ s3Endpoint: aws.endpoints.s3, warmUp: true });
    await createCollection(rekognition.client, COLLECTION);
    await createCollection(rekognition.client, VISITORS);

    // Given two strangers seen as the processor and the consumer record them: each face indexed in the visitors
    // collection from its snapshot, the snapshot in the bucket, three sightings, the visitor's record.
    const indexer = new RekognitionVisitorFaces(rekognition.client);
    const log = new DynamoVisitors(aws.documents, tables.VisitorsTable);
    for (const [name, photo, start] of [['rock', 18, '2026-12-01T10:00:00.000Z'], ['willis', 12, '2026-12-02T10:00:00.000Z']] as const) {
      const id = `v-${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
      const snapshot = await snapshotOf(photo);
      const indexed = await indexer.index(snapshot, { collectionId: VISITORS, visitorId: id });
      expect(indexed).toEqual({ faceId: expect.any(String) });
      for (let i = 0; i < 3; i++) {
        const sightingId = `${name}-${i}`;
        const seenAt = new Date(Date.parse(start) + i * 200).toISOString();
        const snapshotKey = snapshotKeyOf('front-door', sightingId);
        await aws.s3!.send(new PutObjectCommand({ Bucket: bucket, Key: snapshotKey, Body: snapshot, ContentType: 'image/jpeg' }));
        await aws.documents.send(new PutCommand({ TableName: tables.SightingsTable, Item: sighting({ sightingId, personId: 'UNKNOWN', camera: 'front-door', seenAt, similarity: undefined, visitorId: id, snapshotKey }) }));
        if (i === 0) await log.startVisit({ visitorId: id, seenAt, camera: 'front-door', gapSeconds: 60, faceId: indexed!.faceId });
        else await log.seen(id, seenAt, 'front-door');
        await log.offerSnapshot(id, snapshotKey, 0.01 * (i + 1));
        visitor[name].sightings.push(sightingId);
      }
      visitor[name].id = id;
    }

    Object.assign(process.env, {
      PEOPLE_TABLE: tables.PeopleTable,
      SIGHTINGS_TABLE: tables.SightingsTable,
      ALERT_STATE_TABLE: tables.AlertStateTable,
      VISITORS_TABLE: tables.VisitorsTable,
      COLLECTION_ID: COLLECTION,
      VISITOR_COLLECTION_ID: VISITORS,
      FACES_BUCKET: bucket,
      CAMERA_RESOURCES: cameraResourcesEnv(STAGE, ['front-door']),
      PROCESSOR_SNAPSHOTS: 'true',
      SIGHTING_RETENTION_DAYS: '3650',
      API_TOKEN_SHA256: createHash('sha256').update(TOKEN).digest('hex'),
    });
    for (const name of ['list-visitors', 'get-visitor', 'name-visitor', 'erase-visitor', 'erase-person', 'get-person', 'list-sightings', 'expire-visitors']) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const module = require(`../../../functions/${name}/handler`);
      api[name] = name === 'expire-visitors' ? module.main : module.handler;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    indexFace = require('../../../functions/index-face/handler').handler;
  });
  afterAll(async () => {
    await rekognition?.stop();
    await aws?.stop();
  });

  it('lists the visitors last seen first, each with visits, times, camera and a link to the best snapshot', async () => {
    const first = await call('list-visitors', { method: 'GET', path: '/visitors', query: { limit: '1' } });
    const second = await call('list-visitors', { method: 'GET', path: '/visitors', query: { limit: '1', cursor: first.body.nextCursor } });

    expect(first.statusCode).toBe(200);
    expect(first.body.visitors).toEqual([
      {
        visitorId: visitor.willis.id,
        visits: 1,
        firstSeenAt: '2026-12-02T10:00:00.000Z',
        lastSeenAt: '2026-12-02T10:00:00.400Z',
        lastSeenCamera: 'front-door',
        faces: 1,
        snapshotKey: snapshotKeyOf('front-door', 'willis-2'),
        snapshotUrl: expect.stringContaining(`/${bucket}/snapshots/front-door/willis-2.jpg?`),
      },
    ]);
    expect(second.body.visitors.map((v: { visitorId: string }) => v.visitorId)).toEqual([visitor.rock.id]);
    // DynamoDB cannot tell that a full page was the last: the next one is empty, without a cursor
    const third = await call('list-visitors', { method: 'GET', path: '/visitors', query: { limit: '1', cursor: second.body.nextCursor } });
    expect(third.body).toEqual({ visitors: [] });

    const one = await call('get-visitor', { method: 'GET', path: `/visitors/${visitor.rock.id}`, pathParameters: { visitorId: visitor.rock.id } });
    expect(one.statusCode).toBe(200);
    expect(one.body).toEqual(second.body.visitors[0]);
    const response = await fetch(one.body.snapshotUrl);
    expect(response.ok).toBe(true);
    expect(Buffer.from(await response.arrayBuffer()).subarray(0, 2).toString('hex')).toBe('ffd8');

    // a visitor's sightings, through GET /sightings
    const sightings = await call('list-sightings', { method: 'GET', path: '/sightings', query: { visitorId: visitor.rock.id } });
    expect(sightings.body.sightings.map((s: { sightingId: string; visitorId: string; personId: string }) => [s.sightingId, s.personId, s.visitorId])).toEqual(
      ['rock-2', 'rock-1', 'rock-0'].map((id) => [id, 'UNKNOWN', visitor.rock.id]),
    );
  });

  it('answers 400 for a malformed id or body, 404 for an unknown visitor, in the error shape of every route', async () => {
    const malformed = await call('get-visitor', { method: 'GET', path: '/visitors/rock', pathParameters: { visitorId: 'rock' } });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.body.error).toMatchObject({ code: 'ValidationError', field: 'visitorId', requestId: expect.any(String) });
    const unknown = await call('get-visitor', { method: 'GET', path: '/visitors/v-ffffffffffffffff', pathParameters: { visitorId: 'v-ffffffffffffffff' } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'NotFound', field: 'visitorId' });
    for (const body of [{}, { name: 'a/b' }, { name: 'Ann', personId: 'Ann' }, { name: '' }]) {
      const response = await call('name-visitor', { method: 'POST', path: `/visitors/${visitor.rock.id}/name`, pathParameters: { visitorId: visitor.rock.id }, body });
      expect({ body, status: response.statusCode, code: response.body.error?.code }).toEqual({ body, status: 400, code: 'ValidationError' });
    }
    const nobody = await call('name-visitor', { method: 'POST', path: `/visitors/${visitor.rock.id}/name`, pathParameters: { visitorId: visitor.rock.id }, body: { personId: 'Nobody' } });
    expect(nobody.statusCode).toBe(404);
    expect(nobody.body.error).toMatchObject({ code: 'NotFound', field: 'personId' });
    expect(await visitorFaces()).toHaveLength(2); // nothing was touched
  });

  it('names a visitor: the best snapshot becomes the new person\'s photo, indexed as their face; the sightings become theirs; the visitor is gone', async () => {
    const name = 'Dwayne Visitor';
    const personId = personIdFromName(name);

    const response = await call('name-visitor', { method: 'POST', path: `/visitors/${visitor.rock.id}/name`, pathParameters: { visitorId: visitor.rock.id }, body: { name } });

    expect(response.statusCode).toBe(200);
    const photoKey = `faces/${name}/visitor-${visitor.rock.id}.jpg`;
    expect(response.body).toEqual({ visitorId: visitor.rock.id, personId, displayName: name, photoKey, sightingsMoved: 3, facesRemoved: 1 });
    // the photo is in the person's folder: the S3 event registers it, with a face the real engine finds in it
    const head = await aws.s3!.send(new HeadObjectCommand({ Bucket: bucket, Key: photoKey }));
    await indexFace(s3Event(s3Record('ObjectCreated:Put', bucket, photoKey, { size: head.ContentLength, eTag: head.ETag!.replace(/"/g, '') })));
    const person = await call('get-person', { method: 'GET', path: `/people/${personId}`, pathParameters: { personId } });
    expect(person.statusCode).toBe(200);
    expect(person.body).toMatchObject({ personId, displayName: name, faces: [expect.objectContaining({ photoKey })], rejectedPhotos: [] });
    // the sightings are the person's now, and no longer the visitor's
    const theirs = await call('list-sightings', { method: 'GET', path: '/sightings', query: { personId } });
    expect(theirs.body.sightings.map((s: { sightingId: string }) => s.sightingId)).toEqual(['rock-2', 'rock-1', 'rock-0']);
    expect(theirs.body.sightings.every((s: object) => !('visitorId' in s))).toBe(true);
    expect((await call('list-sightings', { method: 'GET', path: '/sightings', query: { visitorId: visitor.rock.id } })).body.sightings).toEqual([]);
    // and the visitor is gone: face, record
    expect(await visitorFaces()).toEqual([visitor.willis.id]);
    expect((await call('get-visitor', { method: 'GET', path: `/visitors/${visitor.rock.id}`, pathParameters: { visitorId: visitor.rock.id } })).statusCode).toBe(404);
    // the people's collection knows the face under the person's id
    const people = (await rekognition.client.send(new ListFacesCommand({ CollectionId: COLLECTION }))).Faces ?? [];
    expect(people.map((f) => f.ExternalImageId)).toEqual([personId]);
  });

  it('erases a visitor: face, snapshots, sightings and record; a second erase is a 404', async () => {
    const response = await call('erase-visitor', { method: 'DELETE', path: `/visitors/${visitor.willis.id}`, pathParameters: { visitorId: visitor.willis.id } });

    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual({ visitorId: visitor.willis.id, removed: { faces: 1, sightings: 3, snapshots: 3, records: 1 } });
    expect(await visitorFaces()).toEqual([]);
    for (const id of visitor.willis.sightings) expect(await exists(snapshotKeyOf('front-door', id))).toBe(false);
    expect((await call('list-visitors', { method: 'GET', path: '/visitors' })).body.visitors).toEqual([]);
    expect((await call('erase-visitor', { method: 'DELETE', path: `/visitors/${visitor.willis.id}`, pathParameters: { visitorId: visitor.willis.id } })).statusCode).toBe(404);
  });

  it('erasing the person named from a visitor erases what was left of the visitor too', async () => {
    const personId = personIdFromName('Dwayne Visitor');
    // the visitor seen once more before the person's photo was indexed: an unknown sighting still under the visitor
    await aws.documents.send(new PutCommand({ TableName: tables.SightingsTable, Item: sighting({ sightingId: 'rock-late', personId: 'UNKNOWN', camera: 'front-door', seenAt: '2026-12-05T10:00:00.000Z', visitorId: visitor.rock.id }) }));

    const response = await call('erase-person', { method: 'DELETE', path: `/people/${personId}`, pathParameters: { personId } });

    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual({
      personId,
      removed: { faces: 1, photos: 1, records: 3, sightings: 3, alertStates: 0, namedVisitors: { visitors: 1, faces: 0, sightings: 1, snapshots: 1, records: 0 } },
    });
    const objects = (await aws.s3!.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'faces/' }))).Contents ?? [];
    expect(objects).toEqual([]);
    expect((await call('list-sightings', { method: 'GET', path: '/sightings', query: { visitorId: visitor.rock.id } })).body.sightings).toEqual([]);
    expect((await rekognition.client.send(new ListFacesCommand({ CollectionId: COLLECTION }))).Faces).toEqual([]);
  });

  it('expires a visitor not seen for sightingRetentionDays (the daily expireVisitors), face included', async () => {
    const id = 'v-00000000000000ee';
    const indexed = await new RekognitionVisitorFaces(rekognition.client).index(await snapshotOf(20), { collectionId: VISITORS, visitorId: id });
    await new DynamoVisitors(aws.documents, tables.VisitorsTable).startVisit({ visitorId: id, seenAt: '2026-12-06T10:00:00.000Z', camera: 'front-door', gapSeconds: 60, faceId: indexed!.faceId });
    const expire = api['expire-visitors'] as unknown as (now: Date) => Promise<{ expired: number; faces: number }>;

    expect(await expire(new Date('2036-12-01T00:00:00Z'))).toEqual({ expired: 0, faces: 0 }); // within the 3650 days
    expect(await expire(new Date('2036-12-07T00:00:00Z'))).toEqual({ expired: 1, faces: 1 });
    expect(await visitorFaces()).toEqual([]);
    expect((await call('list-visitors', { method: 'GET', path: '/visitors' })).body.visitors).toEqual([]);
  });
});
