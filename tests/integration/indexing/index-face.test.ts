/**
 * The indexer in-process against dynalite, s3rver and the local Rekognition, with real face photos (dlib's
 * examples): upload → S3 event → IndexFaces → records; redelivery; deletion.
 */
import '../../support/quiet-logs';
import fs from 'node:fs';
import path from 'node:path';
import { ListFacesCommand } from '@aws-sdk/client-rekognition';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { S3Event } from 'aws-lambda';
import { personIdFromName } from '../../../shared/domain/person-id';
import { createFacesBucket, createTables, startLocalAws, type LocalAws } from '../../support/local-aws';
import { createCollection, startLocalRekognition, type LocalRekognition } from '../../support/local-rekognition';
import { describeWithDlib } from '../../support/dlib';
import { s3Event, s3Record } from '../../support/s3-events';

jest.setTimeout(120_000);

const STAGE = 'itest';
const COLLECTION = `facewatch-${STAGE}-faces`;

describeWithDlib('indexFace against local services', (faces) => {
  let aws: LocalAws;
  let rekognition: LocalRekognition;
  let bucket: string;
  let peopleTable: string;
  let handler: (event: S3Event) => Promise<unknown>;

  beforeAll(async () => {
    aws = await startLocalAws({ dynamodb: true, s3: true });
    peopleTable = (await createTables(aws.dynamodb, STAGE)).PeopleTable;
    bucket = await createFacesBucket(aws.s3!, STAGE);
    rekognition = await startLocalRekognition({ s3Endpoint: aws.endpoints.s3 });
    await createCollection(rekognition.client, COLLECTION);
    Object.assign(process.env, { PEOPLE_TABLE: peopleTable, COLLECTION_ID: COLLECTION, FACES_BUCKET: bucket });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    handler = require('../../../functions/index-face/handler').handler;
  });
  afterAll(async () => {
    await rekognition?.stop();
    await aws?.stop();
  });

  async function upload(key: string, body: Buffer | string) {
    const { ETag } = await aws.s3!.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    return s3Record('ObjectCreated:Put', bucket, key, { size: Buffer.byteLength(body), eTag: ETag!.replace(/"/g, '') });
  }
  const collectionFaces = async () => (await rekognition.client.send(new ListFacesCommand({ CollectionId: COLLECTION }))).Faces ?? [];
  const photoRecord = async (personId: string, key: string) =>
    (await aws.documents.send(new GetCommand({ TableName: peopleTable, Key: { pk: `PERSON#${personId}`, sk: `PHOTO#${key}` } }))).Item;

  const name = 'José María';
  const personId = personIdFromName(name);
  const portrait = `faces/${name}/portrait 1.jpg`;
  let event: S3Event;

  it('registers the face of a photo and records why the others were refused, all from one event', async () => {
    // given four uploads: a portrait, a photo of dogs, a text file, and a photo outside any person's folder
    event = s3Event(
      await upload(portrait, fs.readFileSync(path.join(faces, 'Tom_Cruise_avp_2014_4.jpg'))),
      await upload(`faces/${name}/dogs.jpg`, fs.readFileSync(path.join(faces, 'dogs.jpg'))),
      await upload(`faces/${name}/notes.txt`, 'not a photo'),
      await upload('faces/stray.jpg', fs.readFileSync(path.join(faces, 'Tom_Cruise_avp_2014_4.jpg'))),
    );
    // when the indexer gets the event
    await handler(event);
    // then the collection holds exactly one face, under the person's id
    const indexed = await collectionFaces();
    expect(indexed).toHaveLength(1);
    expect(indexed[0].ExternalImageId).toBe(personId);
    // and the people table says what happened to each photo
    expect(await photoRecord(personId, portrait)).toMatchObject({ status: 'indexed', faces: [{ faceId: indexed[0].FaceId }] });
    expect((await photoRecord(personId, `faces/${name}/dogs.jpg`))?.rejection.reason).toBe('NO_FACE');
    expect((await photoRecord(personId, `faces/${name}/notes.txt`))?.rejection.reason).toBe('NOT_JPEG_OR_PNG');
    const profile = await aws.documents.send(new GetCommand({ TableName: peopleTable, Key: { pk: `PERSON#${personId}`, sk: 'PROFILE' } }));
    expect(profile.Item).toMatchObject({ displayName: name, gsi1pk: 'PERSON', gsi1sk: personId });
    const unfiled = await aws.documents.send(new QueryCommand({ TableName: peopleTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'UNFILED' } }));
    expect(unfiled.Items).toEqual([expect.objectContaining({ photoKey: 'faces/stray.jpg', rejection: expect.objectContaining({ reason: 'OUTSIDE_LAYOUT' }) })]);
  });

  it('changes nothing when the same event is delivered again', async () => {
    // given the state after the first delivery
    const before = await photoRecord(personId, portrait);
    // when S3 delivers the event again
    await handler(event);
    // then no duplicate face and an unchanged record
    expect(await collectionFaces()).toHaveLength(1);
    expect(await photoRecord(personId, portrait)).toEqual(before);
  });

  it('unregisters the face when the photo is deleted', async () => {
    await aws.s3!.send(new DeleteObjectCommand({ Bucket: bucket, Key: portrait }));
    await handler(s3Event(s3Record('ObjectRemoved:Delete', bucket, portrait)));
    expect(await collectionFaces()).toHaveLength(0);
    expect(await photoRecord(personId, portrait)).toBeUndefined();
  });
});
