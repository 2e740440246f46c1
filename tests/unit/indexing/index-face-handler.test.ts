import 'aws-sdk-client-mock-jest';
import { mockClient } from 'aws-sdk-client-mock';
import { DeleteFacesCommand, IndexFacesCommand, RekognitionClient } from '@aws-sdk/client-rekognition';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { personIdFromName } from '../../../shared/domain/person-id';

const BUCKET = 'facewatch-test-faces-000000000000-us-east-1';
const TABLE = 'facewatch-test-people';
const COLLECTION = 'facewatch-test-faces';

const rekognition = mockClient(RekognitionClient);
const documents = mockClient(DynamoDBDocumentClient);
mockClient(S3Client);

let handler: (event: S3Event) => Promise<unknown>;
beforeAll(() => {
  Object.assign(process.env, { PEOPLE_TABLE: TABLE, COLLECTION_ID: COLLECTION, FACES_BUCKET: BUCKET, POWERTOOLS_LOG_LEVEL: 'SILENT' });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  handler = require('../../../functions/index-face/handler').handler;
});
beforeEach(() => {
  rekognition.reset();
  documents.reset();
});

function record(eventName: string, key: string, object: Partial<S3EventRecord['s3']['object']> = {}): S3EventRecord {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2025-03-01T10:00:00.000Z',
    eventName,
    userIdentity: { principalId: 'AWS:x' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': 'r', 'x-amz-id-2': 'i' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'c',
      bucket: { name: BUCKET, ownerIdentity: { principalId: 'o' }, arn: `arn:aws:s3:::${BUCKET}` },
      object: { key, size: 1234, eTag: 'e1', sequencer: '0055AED6DCD90281E5', ...object },
    },
  };
}

const faceRecord = (faceId: string) => ({
  Face: { FaceId: faceId, ImageId: 'img-1', ExternalImageId: 'x', Confidence: 99.5, BoundingBox: { Width: 0.3, Height: 0.4, Left: 0.2, Top: 0.1 } },
  FaceDetail: { Quality: { Brightness: 70, Sharpness: 80 }, Pose: { Pitch: 1, Roll: 2, Yaw: 3 } },
});

describe('indexFace handler', () => {
  it('decodes the key and sends IndexFaces with the seed settings and the derived ExternalImageId', async () => {
    // given a new photo of José María (key URL-encoded by S3, + for the space)
    documents.on(GetCommand).resolves({});
    rekognition.on(IndexFacesCommand).resolves({ FaceRecords: [faceRecord('f-1')], UnindexedFaces: [] });
    // when
    await handler({ Records: [record('ObjectCreated:Put', 'faces/Jos%C3%A9+Mar%C3%ADa/Beach+1.jpg')] });
    // then
    const key = 'faces/José María/Beach 1.jpg';
    const personId = personIdFromName('José María');
    expect(rekognition).toHaveReceivedCommandTimes(IndexFacesCommand, 1);
    expect(rekognition).toHaveReceivedCommandWith(IndexFacesCommand, {
      CollectionId: COLLECTION,
      Image: { S3Object: { Bucket: BUCKET, Name: key } },
      ExternalImageId: personId,
      MaxFaces: 1,
      QualityFilter: 'AUTO',
      DetectionAttributes: ['ALL'],
    });
    expect(documents).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: TABLE,
      Key: { pk: `PERSON#${personId}`, sk: 'PROFILE' },
      ExpressionAttributeValues: expect.objectContaining({ ':id': personId, ':name': 'José María', ':gpk': 'PERSON', ':gsk': personId }),
    });
    expect(documents).toHaveReceivedCommandWith(PutCommand, {
      TableName: TABLE,
      ConditionExpression: 'attribute_not_exists(#pk)',
      Item: expect.objectContaining({
        pk: `PERSON#${personId}`,
        sk: `PHOTO#${key}`,
        personId,
        photoKey: key,
        etag: 'e1',
        sequencer: '0055AED6DCD90281E5',
        status: 'indexed',
        faces: [
          {
            faceId: 'f-1',
            imageId: 'img-1',
            confidence: 99.5,
            boundingBox: { Width: 0.3, Height: 0.4, Left: 0.2, Top: 0.1 },
            quality: { Brightness: 70, Sharpness: 80 },
            pose: { Pitch: 1, Roll: 2, Yaw: 3 },
          },
        ],
      }),
    });
    expect(rekognition).not.toHaveReceivedCommand(DeleteFacesCommand);
  });

  it('deletes the faces of a removed photo, then its record', async () => {
    // given a recorded photo with one face
    documents.on(GetCommand).resolves({
      Item: { pk: 'PERSON#bob', sk: 'PHOTO#faces/bob/1.jpg', personId: 'bob', photoKey: 'faces/bob/1.jpg', sequencer: '01', status: 'indexed', faces: [{ faceId: 'f-9' }] },
    });
    rekognition.on(DeleteFacesCommand).resolves({ DeletedFaces: ['f-9'] });
    // when it is deleted from the bucket
    await handler({ Records: [record('ObjectRemoved:Delete', 'faces/bob/1.jpg', { size: undefined, eTag: undefined, sequencer: '02' })] });
    // then
    expect(rekognition).toHaveReceivedCommandWith(DeleteFacesCommand, { CollectionId: COLLECTION, FaceIds: ['f-9'] });
    expect(documents).toHaveReceivedCommandWith(DeleteCommand, {
      TableName: TABLE,
      Key: { pk: 'PERSON#bob', sk: 'PHOTO#faces/bob/1.jpg' },
      ConditionExpression: '#seq = :seq',
      ExpressionAttributeValues: { ':seq': '01' },
    });
    expect(rekognition).not.toHaveReceivedCommand(IndexFacesCommand);
  });

  it('processes every record even when one fails, then fails the invocation so S3 retries', async () => {
    // given three photos: one good, one refused by Rekognition, one throttled
    documents.on(GetCommand).resolves({});
    rekognition
      .on(IndexFacesCommand, { Image: { S3Object: { Bucket: BUCKET, Name: 'faces/ann/1.jpg' } } })
      .resolves({ FaceRecords: [faceRecord('f-ann')] })
      .on(IndexFacesCommand, { Image: { S3Object: { Bucket: BUCKET, Name: 'faces/bad/1.jpg' } } })
      .rejects(Object.assign(new Error('Request has invalid image format'), { name: 'InvalidImageFormatException' }))
      .on(IndexFacesCommand, { Image: { S3Object: { Bucket: BUCKET, Name: 'faces/slow/1.jpg' } } })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    // when
    const run = handler({
      Records: [record('ObjectCreated:Put', 'faces/slow/1.jpg'), record('ObjectCreated:Put', 'faces/ann/1.jpg'), record('ObjectCreated:Put', 'faces/bad/1.jpg')],
    });
    // then the invocation fails naming the throttled photo...
    await expect(run).rejects.toThrow(/1 photo event\(s\) failed \(faces\/slow\/1.jpg\); 2 succeeded/);
    // ...and the two others were recorded
    expect(documents).toHaveReceivedCommandWith(PutCommand, { Item: expect.objectContaining({ photoKey: 'faces/ann/1.jpg', status: 'indexed' }) });
    expect(documents).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ photoKey: 'faces/bad/1.jpg', status: 'rejected', rejection: expect.objectContaining({ reason: 'NOT_JPEG_OR_PNG' }) }),
    });
    expect(documents).not.toHaveReceivedCommandWith(PutCommand, { Item: expect.objectContaining({ photoKey: 'faces/slow/1.jpg' }) });
  });

  it('records a photo outside the layout as unfiled, without calling Rekognition', async () => {
    await handler({ Records: [record('ObjectCreated:Put', 'faces/loose.jpg')] });
    expect(rekognition).not.toHaveReceivedCommand(IndexFacesCommand);
    expect(documents).toHaveReceivedCommandWith(PutCommand, {
      Item: expect.objectContaining({ pk: 'UNFILED', sk: 'PHOTO#faces/loose.jpg', rejection: expect.objectContaining({ reason: 'OUTSIDE_LAYOUT' }) }),
    });
  });

  it('ignores records from another bucket', async () => {
    const foreign = record('ObjectCreated:Put', 'faces/bob/1.jpg');
    foreign.s3.bucket.name = 'someone-elses-bucket';
    await expect(handler({ Records: [foreign] })).resolves.toEqual({ processed: 0 });
    expect(rekognition).not.toHaveReceivedCommand(IndexFacesCommand);
    expect(documents).not.toHaveReceivedCommand(PutCommand);
  });
});
