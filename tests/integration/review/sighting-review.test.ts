/**
 * The console's corrections and uploads with their real adapters: the sightings and people tables on dynalite (as
 * resources/tables.yml declares them), the faces bucket on s3rver. "This is …" copies the snapshot into the person's
 * folder and reassigns the sighting; "not this person" makes it unknown and keeps who it was; a presigned upload link
 * takes exactly the file it was made for.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoPeopleRepository } from '../../../shared/adapters/people-repository';
import { S3PhotoStore } from '../../../shared/adapters/photo-store';
import { S3UploadLinks } from '../../../shared/adapters/upload-links';
import { DynamoSightingRecords } from '../../../shared/adapters/sighting-records';
import type { Sighting } from '../../../shared/domain/model';
import { ConflictError, NotFoundError } from '../../../shared/errors';
import { planUploads } from '../../../shared/use-cases/photo-uploads';
import { getSighting, identifySighting, rejectMatch, type ReviewPorts } from '../../../shared/use-cases/sighting-review';
import { listSightings } from '../../../shared/use-cases/sightings';
import { DynamoSightingHistory } from '../../../shared/adapters/sighting-history';
import { createTables, startLocalAws, type LocalAws } from '../../support/local-aws';

const BUCKET = 'review-faces';
let aws: LocalAws;
let tables: Record<string, string>;
let ports: ReviewPorts;

beforeAll(async () => {
  aws = await startLocalAws({ dynamodb: true, s3: true });
  tables = await createTables(aws.dynamodb, 'review');
  await aws.s3!.send(new CreateBucketCommand({ Bucket: BUCKET }));
  ports = {
    sightings: new DynamoSightingRecords(aws.documents, tables.SightingsTable),
    people: new DynamoPeopleRepository(aws.documents, tables.PeopleTable),
    photos: new S3PhotoStore(aws.s3!, BUCKET),
  };
});
afterAll(() => aws.stop());

let serial = 0;
async function givenSighting(personId: string, withSnapshot = true): Promise<Sighting> {
  const sightingId = (++serial).toString(16).padStart(32, '0');
  const sighting: Sighting = {
    sightingId,
    personId,
    camera: 'front-door',
    seenAt: `2026-12-07T12:00:${String(serial).padStart(2, '0')}.000Z`,
    day: '2026-12-07',
    serverTimestamp: 1,
    producerTimestamp: 1,
    frameOffsetInSeconds: 0,
    fragmentNumber: '1',
    streamArn: 'arn:aws:kinesisvideo:us-east-1:000000000000:stream/front-door/1',
    faceIndex: 0,
    ...(personId !== 'UNKNOWN' ? { similarity: 93.5, matchedFaceId: 'face-1', externalImageId: personId } : {}),
    boundingBox: { Width: 0.2, Height: 0.2, Left: 0.1, Top: 0.1 },
    ...(withSnapshot ? { snapshotKey: `snapshots/front-door/${sightingId}.jpg` } : {}),
    expiresAt: 2_000_000_000,
  };
  await aws.documents.send(new PutCommand({ TableName: tables.SightingsTable, Item: sighting }));
  if (withSnapshot) await aws.s3!.send(new PutObjectCommand({ Bucket: BUCKET, Key: sighting.snapshotKey!, Body: Buffer.from([0xff, 0xd8, 0xff, serial]) }));
  return sighting;
}

const history = () => new DynamoSightingHistory(aws.documents, tables.SightingsTable);
const byPerson = async (personId: string) =>
  (await listSightings(history(), { personId, since: new Date('2026-12-07T00:00:00Z'), until: new Date('2026-12-08T00:00:00Z'), limit: 100 }, new Date(), 30)).sightings.map((s) => s.sightingId);

describe('sighting review against DynamoDB and S3', () => {
  it('given a matched sighting, when it is marked "not this person", then it is an unknown face that was matched to them, gone from their history', async () => {
    // given
    const s = await givenSighting('ada');
    expect(await byPerson('ada')).toContain(s.sightingId);
    // when
    const view = await rejectMatch(ports, s.sightingId, 'ada', new Date('2026-12-07T13:00:00Z'));
    // then
    expect(view).toMatchObject({ sightingId: s.sightingId, personId: 'UNKNOWN', correctedFrom: 'ada' });
    expect(view.similarity).toBeUndefined();
    const stored = await getSighting(ports, s.sightingId);
    expect(stored).toMatchObject({ personId: 'UNKNOWN', correctedFrom: 'ada' });
    expect(stored.similarity).toBeUndefined();
    expect(await byPerson('ada')).not.toContain(s.sightingId);
    expect(await byPerson('UNKNOWN')).toContain(s.sightingId);
    // and a second, stale "not ada" is refused rather than applied twice
    await expect(rejectMatch(ports, s.sightingId, 'ada', new Date())).rejects.toBeInstanceOf(ConflictError);
  });

  it('given an unknown sighting with a snapshot, when it is identified as a new person, then the snapshot is in their folder and the sighting is theirs', async () => {
    // given
    const s = await givenSighting('UNKNOWN');
    // when
    const result = await identifySighting(ports, s.sightingId, { name: 'Grace Hopper' }, new Date('2026-12-07T13:00:00Z'));
    // then
    expect(result.photoKey).toBe(`faces/Grace Hopper/sighting-${s.sightingId}.jpg`);
    expect(result.personId).toBe('Grace-Hopper:' + result.personId.split(':')[1]);
    const copied = await aws.s3!.send(new GetObjectCommand({ Bucket: BUCKET, Key: result.photoKey }));
    expect(Buffer.from(await copied.Body!.transformToByteArray())).toEqual(Buffer.from([0xff, 0xd8, 0xff, serial]));
    expect(copied.ContentType).toBe('image/jpeg');
    expect(await getSighting(ports, s.sightingId)).toMatchObject({ personId: result.personId, identified: true });
    expect(await byPerson(result.personId)).toEqual([s.sightingId]);
  });

  it('refuses to identify a sighting that kept no snapshot, and answers not found for an unknown id; the person must exist when named by id', async () => {
    const s = await givenSighting('UNKNOWN', false);
    await expect(identifySighting(ports, s.sightingId, { name: 'Grace' }, new Date())).rejects.toThrow(/kept no face snapshot/);
    await expect(getSighting(ports, 'f'.repeat(32))).rejects.toBeInstanceOf(NotFoundError);
    // a snapshot that expired from the bucket while its sighting is still listed
    const expired = await givenSighting('UNKNOWN', false);
    await aws.documents.send(new PutCommand({ TableName: tables.SightingsTable, Item: { ...expired, snapshotKey: `snapshots/front-door/${expired.sightingId}.jpg` } }));
    await expect(identifySighting(ports, expired.sightingId, { name: 'Grace' }, new Date())).rejects.toThrow(/snapshot is gone/);
    expect((await getSighting(ports, expired.sightingId)).personId).toBe('UNKNOWN');
    const t = await givenSighting('UNKNOWN');
    await expect(identifySighting(ports, t.sightingId, { personId: 'nobody-here' }, new Date())).rejects.toBeInstanceOf(NotFoundError);
    expect((await getSighting(ports, t.sightingId)).personId).toBe('UNKNOWN');
  });

  it('a presigned upload link, signed for the content type and size, PUTs the file into the person folder; over 15 MB or a name with a slash gets no link', async () => {
    // given
    const plan = await planUploads({ people: ports.people, links: new S3UploadLinks(aws.s3!, BUCKET) }, { target: { name: 'Ada' }, files: [{ fileName: 'me at home.JPG', contentType: 'image/jpeg', bytes: 4 }] });
    const [upload] = plan.uploads;
    expect(plan.personId).toBe('Ada');
    expect(upload.photoKey).toMatch(/^faces\/Ada\/me-at-home-[0-9a-f]{8}\.jpg$/);
    expect(new URL(upload.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host');
    // when
    const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: new Uint8Array([1, 2, 3, 4]) });
    // then
    expect(put.status).toBe(200);
    const stored = await aws.s3!.send(new GetObjectCommand({ Bucket: BUCKET, Key: upload.photoKey }));
    expect(Buffer.from(await stored.Body!.transformToByteArray())).toEqual(Buffer.from([1, 2, 3, 4]));
    await expect(planUploads({ people: ports.people, links: new S3UploadLinks(aws.s3!, BUCKET) }, { target: { name: 'Ada' }, files: [{ fileName: 'big.jpg', contentType: 'image/jpeg', bytes: 16 * 1024 * 1024 }] })).rejects.toThrow(/at most 15 MB/);
    await expect(planUploads({ people: ports.people, links: new S3UploadLinks(aws.s3!, BUCKET) }, { target: { name: 'a/b' }, files: [{ fileName: 'x.jpg', contentType: 'image/jpeg', bytes: 4 }] })).rejects.toThrow(/no slashes/);
  });
});
