/**
 * The API handlers in-process against dynalite, s3rver and the local Rekognition, authenticated as on the
 * local stack (bearer token): processor start/stop idempotence and conflicts, sightings pagination over
 * the indexes, erasing a person leaving nothing behind, and the 400/401/404 bodies.
 */
import '../../support/quiet-logs';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CreateStreamProcessorCommand, ListFacesCommand } from '@aws-sdk/client-rekognition';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { BatchWriteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { S3Event } from 'aws-lambda';
import type { Sighting } from '../../../shared/domain/model';
import { personIdFromName } from '../../../shared/domain/person-id';
import { invoke, type ApiRequest } from '../../support/api-events';
import { dlibFaces } from '../../support/dlib';
import { cameraResourcesEnv, createFacesBucket, createTables, LOCAL_ACCOUNT, startLocalAws, type LocalAws } from '../../support/local-aws';
import { createCollection, startLocalRekognition, type LocalRekognition } from '../../support/local-rekognition';
import { sighting } from '../../support/people-fakes';
import { s3Event, s3Record } from '../../support/s3-events';

jest.setTimeout(120_000);

const STAGE = 'apitest';
const COLLECTION = `facewatch-${STAGE}-faces`;
const CAMERAS = ['front-door', 'garage'];
const TOKEN = 'integration-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };

type Handler = Parameters<typeof invoke>[0];
const faces = dlibFaces();
const withFaces = faces ? describe : describe.skip;

describe('REST API against local services', () => {
  let aws: LocalAws;
  let rekognition: LocalRekognition;
  let tables: Record<string, string>;
  let bucket: string;
  const api: Record<string, Handler> = {};
  let indexFace: (event: S3Event) => Promise<unknown>;
  /** Lets a test hold a processor in STARTING / STOPPING. */
  const gate: { start?: Promise<void>; stop?: Promise<void> } = {};

  beforeAll(async () => {
    aws = await startLocalAws({ dynamodb: true, s3: true });
    tables = await createTables(aws.dynamodb, STAGE);
    bucket = await createFacesBucket(aws.s3!, STAGE);
    rekognition = await startLocalRekognition({
      s3Endpoint: aws.endpoints.s3,
      warmUp: Boolean(faces),
      runner: { start: () => gate.start, stop: () => gate.stop },
    });
    await createCollection(rekognition.client, COLLECTION);
    const cameraResources = cameraResourcesEnv(STAGE, CAMERAS);
    for (const [camera, names] of Object.entries<{ processor: string; videoStream: string; dataStream: string }>(JSON.parse(cameraResources))) {
      await rekognition.client.send(
        new CreateStreamProcessorCommand({
          Name: names.processor,
          Input: { KinesisVideoStream: { Arn: `arn:aws:kinesisvideo:us-east-1:${LOCAL_ACCOUNT}:stream/${names.videoStream}/1` } },
          Output: { KinesisDataStream: { Arn: `arn:aws:kinesis:us-east-1:${LOCAL_ACCOUNT}:stream/${names.dataStream}` } },
          RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/processor`,
          Settings: { FaceSearch: { CollectionId: COLLECTION, FaceMatchThreshold: 85.5 } },
          Tags: { camera },
        }),
      );
    }
    Object.assign(process.env, {
      PEOPLE_TABLE: tables.PeopleTable,
      SIGHTINGS_TABLE: tables.SightingsTable,
      ALERT_STATE_TABLE: tables.AlertStateTable,
      COLLECTION_ID: COLLECTION,
      FACES_BUCKET: bucket,
      CAMERA_RESOURCES: cameraResources,
      PROCESSOR_MODE: 'managed',
      SIGHTING_RETENTION_DAYS: '30',
      API_TOKEN_SHA256: createHash('sha256').update(TOKEN).digest('hex'),
    });
    for (const name of ['start-processor', 'stop-processor', 'describe-processor', 'list-people', 'get-person', 'update-person', 'erase-person', 'list-sightings']) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      api[name] = require(`../../../functions/${name}/handler`).handler;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    indexFace = require('../../../functions/index-face/handler').handler;
  });
  afterAll(async () => {
    await rekognition?.stop();
    await aws?.stop();
  });

  const call = (name: string, request: Omit<ApiRequest, 'headers' | 'iam'> & { headers?: Record<string, string> }) =>
    invoke(api[name], { iam: false, ...request, headers: { ...AUTH, ...request.headers } });

  describe('processor', () => {
    const state = async (camera: string) => (await call('describe-processor', { method: 'GET', path: '/processor', query: { camera } })).body.processors[0].state;

    it('starts and stops idempotently', async () => {
      // When the front-door processor is started twice
      const first = await call('start-processor', { method: 'POST', path: '/processor/start', query: { camera: 'front-door' } });
      const again = await call('start-processor', { method: 'POST', path: '/processor/start', query: { camera: 'front-door' } });
      // Then the first start changed it to RUNNING, the second changed nothing, and the garage stayed STOPPED
      expect(first.statusCode).toBe(200);
      expect(first.body.processors).toEqual([expect.objectContaining({ camera: 'front-door', state: 'RUNNING', changed: true })]);
      expect(again.statusCode).toBe(200);
      expect(again.body.processors).toEqual([expect.objectContaining({ camera: 'front-door', state: 'RUNNING', changed: false })]);
      expect(await state('garage')).toBe('STOPPED');

      // When every processor is stopped twice
      const stop = await call('stop-processor', { method: 'POST', path: '/processor/stop' });
      const stopAgain = await call('stop-processor', { method: 'POST', path: '/processor/stop' });
      // Then the first stop changed only the running one, the second changed nothing
      expect(stop.body.processors.map((p: { camera: string; state: string; changed: boolean }) => [p.camera, p.state, p.changed])).toEqual([
        ['front-door', 'STOPPED', true],
        ['garage', 'STOPPED', false],
      ]);
      expect(stopAgain.body.processors.every((p: { changed: boolean }) => !p.changed)).toBe(true);
    });

    it('answers 409 with the state while a processor is STARTING', async () => {
      // given the garage processor held in STARTING
      let release!: () => void;
      gate.start = new Promise<void>((resolve) => (release = resolve));
      await call('start-processor', { method: 'POST', path: '/processor/start', query: { camera: 'garage' } });
      expect(await state('garage')).toBe('STARTING');
      // when it is started again
      const response = await call('start-processor', { method: 'POST', path: '/processor/start', query: { camera: 'garage' } });
      // then
      expect(response.statusCode).toBe(409);
      expect(response.body.error).toMatchObject({ code: 'Conflict', details: { conflicts: [{ camera: 'garage', state: 'STARTING' }] } });
      release();
      gate.start = undefined;
      await new Promise((r) => setTimeout(r, 20));
      expect(await state('garage')).toBe('RUNNING');
      await call('stop-processor', { method: 'POST', path: '/processor/stop', query: { camera: 'garage' } });
    });
  });

  describe('sightings', () => {
    const bobs = Array.from({ length: 7 }, (_, i) =>
      sighting({ sightingId: `bob-${i}`, personId: 'bob', camera: CAMERAS[i % 2], seenAt: new Date(Date.UTC(2025, 2, 9, 20 + i)).toISOString() }),
    );
    const others = [
      sighting({ sightingId: 'ann-0', personId: 'ann', camera: 'garage', seenAt: '2025-03-10T01:30:00.000Z' }),
      sighting({ sightingId: 'unknown-0', personId: 'UNKNOWN', camera: 'front-door', seenAt: '2025-03-09T19:00:00.000Z' }),
    ];
    const newestFirst = (items: Sighting[]) => [...items].sort((a, b) => b.seenAt.localeCompare(a.seenAt)).map((s) => s.sightingId);

    beforeAll(async () => {
      await aws.documents.send(
        new BatchWriteCommand({ RequestItems: { [tables.SightingsTable]: [...bobs, ...others].map((Item) => ({ PutRequest: { Item } })) } }),
      );
    });

    async function allPages(query: Record<string, string>) {
      const ids: string[] = [];
      const pages: number[] = [];
      let cursor: string | undefined;
      do {
        const response = await call('list-sightings', { method: 'GET', path: '/sightings', query: { ...query, ...(cursor ? { cursor } : {}) } });
        expect(response.statusCode).toBe(200);
        ids.push(...response.body.sightings.map((s: { sightingId: string }) => s.sightingId));
        pages.push(response.body.sightings.length);
        cursor = response.body.nextCursor;
      } while (cursor && pages.length < 20);
      return { ids, pages };
    }

    it('pages through one person newest first', async () => {
      // when
      const { ids, pages } = await allPages({ personId: 'bob', limit: '3', since: '2025-03-01T00:00:00Z', until: '2025-03-31T00:00:00Z' });
      // then
      expect(ids).toEqual(newestFirst(bobs));
      expect(pages.slice(0, 3)).toEqual([3, 3, 1]);
    });

    it('pages through a person on one camera, a camera, and every sighting across days', async () => {
      const window = { since: '2025-03-01T00:00:00Z', until: '2025-03-31T00:00:00Z' };
      // When each filter is paged through (bob on the garage, the garage, everything), then each answers its sightings newest first
      expect((await allPages({ personId: 'bob', camera: 'garage', limit: '2', ...window })).ids).toEqual(newestFirst(bobs.filter((s) => s.camera === 'garage')));
      expect((await allPages({ camera: 'garage', limit: '2', ...window })).ids).toEqual(newestFirst([...bobs, ...others].filter((s) => s.camera === 'garage')));
      expect((await allPages({ limit: '4', ...window })).ids).toEqual(newestFirst([...bobs, ...others]));
    });

    it('narrows to the time window', async () => {
      // when
      const { ids } = await allPages({ since: '2025-03-09T22:00:00Z', until: '2025-03-10T00:00:00Z' });
      // then
      expect(ids).toEqual(['bob-4', 'bob-3', 'bob-2']);
    });

    it('refuses a cursor replayed with other filters', async () => {
      // Given a cursor from a page of bob's sightings
      const window = { since: '2025-03-01T00:00:00Z', until: '2025-03-31T00:00:00Z' };
      const first = await call('list-sightings', { method: 'GET', path: '/sightings', query: { personId: 'bob', limit: '1', ...window } });
      expect(first.body.nextCursor).toEqual(expect.any(String));
      // When it is sent with ann's filters
      const replay = await call('list-sightings', { method: 'GET', path: '/sightings', query: { personId: 'ann', ...window, cursor: first.body.nextCursor } });
      // Then it is refused, naming the cursor
      expect(replay.statusCode).toBe(400);
      expect(replay.body.error).toMatchObject({ field: 'cursor', message: expect.stringContaining('other filters') });
    });
  });

  withFaces('people', () => {
    const name = "O'Brien";
    const personId = personIdFromName(name);

    async function register(key: string, file: string) {
      const body = fs.readFileSync(path.join(faces!, file));
      const { ETag } = await aws.s3!.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      await indexFace(s3Event(s3Record('ObjectCreated:Put', bucket, key, { size: body.length, eTag: ETag!.replace(/"/g, '') })));
    }

    beforeAll(async () => {
      await register(`faces/${name}/portrait.jpg`, 'Tom_Cruise_avp_2014_4.jpg');
      await register(`faces/${name}/dogs.jpg`, 'dogs.jpg');
      await register('faces/bob/collage.jpg', 'bald_guys.jpg');
      await aws.documents.send(new PutCommand({ TableName: tables.SightingsTable, Item: sighting({ sightingId: 'ob-1', personId, camera: 'garage', seenAt: '2025-03-08T10:00:00.000Z' }) }));
      await aws.documents.send(new PutCommand({ TableName: tables.AlertStateTable, Item: { alertKey: `${personId}#garage`, personId, camera: 'garage', lastAlertAt: 1, sightingId: 'ob-1', expiresAt: 2e9 } }));
    });

    it('lists people with their faces and refused photos', async () => {
      // when
      const response = await call('list-people', { method: 'GET', path: '/people' });
      // then
      expect(response.statusCode).toBe(200);
      const obrien = response.body.people.find((p: { personId: string }) => p.personId === personId);
      expect(obrien).toMatchObject({
        displayName: name,
        faces: [expect.objectContaining({ photoKey: `faces/${name}/portrait.jpg` })],
        rejectedPhotos: [expect.objectContaining({ photoKey: `faces/${name}/dogs.jpg`, reason: 'NO_FACE' })],
      });
      expect(response.body.people.map((p: { personId: string }) => p.personId).sort()).toEqual([personId, 'bob'].sort());
    });

    it('pages through people with a cursor', async () => {
      // when
      const first = await call('list-people', { method: 'GET', path: '/people', query: { limit: '1' } });
      const second = await call('list-people', { method: 'GET', path: '/people', query: { limit: '1', cursor: first.body.nextCursor } });
      const ids = [...first.body.people, ...second.body.people].map((p: { personId: string }) => p.personId);
      // then
      expect(ids.sort()).toEqual([personId, 'bob'].sort());
    });

    it('updates alert rules', async () => {
      // when
      const response = await call('update-person', { method: 'PATCH', path: `/people/${encodeURIComponent(personId)}`, pathParameters: { personId: encodeURIComponent(personId) }, body: { watchlist: true } });
      // then
      expect(response.statusCode).toBe(200);
      expect(response.body.rules).toEqual({ muted: false, watchlist: true });
      const stored = await aws.documents.send(new GetCommand({ TableName: tables.PeopleTable, Key: { pk: `PERSON#${personId}`, sk: 'PROFILE' } }));
      expect(stored.Item?.rules).toEqual({ muted: false, watchlist: true });
    });

    it('erases a person and leaves nothing of them behind', async () => {
      // when
      const response = await call('erase-person', { method: 'DELETE', path: `/people/${personId}`, pathParameters: { personId } });
      // then the answer counts what went
      expect(response.statusCode).toBe(200);
      expect(response.body).toEqual({ personId, removed: { faces: 1, photos: 2, records: 3, sightings: 1, alertStates: 1 } });
      // and nothing is left: faces, photos, records, sightings, alert state
      const collection = (await rekognition.client.send(new ListFacesCommand({ CollectionId: COLLECTION }))).Faces ?? [];
      expect(collection.map((f) => f.ExternalImageId)).toEqual(['bob']);
      const objects = (await aws.s3!.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'faces/' }))).Contents ?? [];
      expect(objects.map((o) => o.Key)).toEqual(['faces/bob/collage.jpg']);
      const items = await aws.documents.send(new QueryCommand({ TableName: tables.PeopleTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `PERSON#${personId}` } }));
      expect(items.Items).toEqual([]);
      const sightings = await aws.documents.send(new QueryCommand({ TableName: tables.SightingsTable, IndexName: 'byPerson', KeyConditionExpression: 'personId = :p', ExpressionAttributeValues: { ':p': personId } }));
      expect(sightings.Items).toEqual([]);
      const alert = await aws.documents.send(new GetCommand({ TableName: tables.AlertStateTable, Key: { alertKey: `${personId}#garage` } }));
      expect(alert.Item).toBeUndefined();
      // and the person is unknown from now on
      const after = await call('get-person', { method: 'GET', path: `/people/${personId}`, pathParameters: { personId } });
      expect(after.statusCode).toBe(404);
      expect(after.body.error).toMatchObject({ code: 'NotFound', field: 'personId', requestId: expect.any(String) });
      const again = await call('erase-person', { method: 'DELETE', path: `/people/${personId}`, pathParameters: { personId } });
      expect(again.statusCode).toBe(404);
    });
  });

  describe('errors', () => {
    it('answers 401 without the token and with a wrong one', async () => {
      // when
      const missing = await invoke(api['list-people'], { method: 'GET', path: '/people', iam: false });
      const wrong = await invoke(api['list-people'], { method: 'GET', path: '/people', iam: false, headers: { authorization: 'Bearer nope' } });
      // then
      for (const response of [missing, wrong]) {
        expect(response.statusCode).toBe(401);
        expect(response.body).toEqual({ error: { code: 'Unauthorized', message: expect.any(String), requestId: expect.any(String) } });
      }
    });

    it('answers 400 naming the field', async () => {
      // when
      const response = await call('list-sightings', { method: 'GET', path: '/sightings', query: { limit: '0' } });
      // then
      expect(response.statusCode).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'ValidationError', field: 'limit' });
    });

    it('answers 404 for an unknown person and camera', async () => {
      // when
      const person = await call('get-person', { method: 'GET', path: '/people/nobody', pathParameters: { personId: 'nobody' } });
      const camera = await call('describe-processor', { method: 'GET', path: '/processor', query: { camera: 'attic' } });
      // then
      expect(person.statusCode).toBe(404);
      expect(camera.statusCode).toBe(404);
      expect(camera.body.error.message).toContain('front-door, garage');
    });
  });
});
