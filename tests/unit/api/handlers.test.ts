import '../../support/quiet-logs';
import 'aws-sdk-client-mock-jest';
import { createHash } from 'node:crypto';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DeleteFacesCommand,
  DescribeStreamProcessorCommand,
  RekognitionClient,
  StartStreamProcessorCommand,
  StopStreamProcessorCommand,
  type StreamProcessorStatus,
} from '@aws-sdk/client-rekognition';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { apiHandler, json } from '../../../shared/middleware/http';
import { invoke } from '../../support/api-events';

const PROCESSOR = 'facewatch-test-front-door';
const env = {
  PEOPLE_TABLE: 'facewatch-test-people',
  SIGHTINGS_TABLE: 'facewatch-test-sightings',
  ALERT_STATE_TABLE: 'facewatch-test-alert-state',
  COLLECTION_ID: 'facewatch-test-faces',
  FACES_BUCKET: 'facewatch-test-faces-bucket',
  CAMERA_RESOURCES: JSON.stringify({
    'front-door': { videoStream: 'facewatch-test-front-door', dataStream: 'facewatch-test-front-door-face-search', processor: PROCESSOR },
    garage: { videoStream: 'facewatch-test-garage', dataStream: 'facewatch-test-garage-face-search', processor: 'facewatch-test-garage' },
  }),
  PROCESSOR_MODE: 'managed',
  SIGHTING_RETENTION_DAYS: '30',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

const rekognition = mockClient(RekognitionClient);
const documents = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);

type Handler = Parameters<typeof invoke>[0];
const handlers: Record<string, Handler> = {};
beforeAll(() => {
  Object.assign(process.env, env);
  delete process.env.API_TOKEN_SHA256;
  for (const name of ['start-processor', 'stop-processor', 'describe-processor', 'list-people', 'get-person', 'update-person', 'erase-person', 'list-sightings']) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    handlers[name] = require(`../../../functions/${name}/handler`).handler;
  }
});
beforeEach(() => {
  rekognition.reset();
  documents.reset();
  s3.reset();
});

const described = (status: StreamProcessorStatus) => ({
  Name: PROCESSOR,
  Status: status,
  LastUpdateTimestamp: new Date('2025-03-01T10:00:00Z'),
  CreationTimestamp: new Date('2025-02-01T10:00:00Z'),
  Input: { KinesisVideoStream: { Arn: 'arn:aws:kinesisvideo:us-east-1:000000000000:stream/facewatch-test-front-door/1' } },
  Output: { KinesisDataStream: { Arn: 'arn:aws:kinesis:us-east-1:000000000000:stream/facewatch-test-front-door-face-search' } },
  Settings: { FaceSearch: { CollectionId: 'facewatch-test-faces', FaceMatchThreshold: 85.5 } },
});

describe('POST /processor/start', () => {
  it('starts a stopped processor and answers its new state', async () => {
    // given
    rekognition.on(DescribeStreamProcessorCommand).resolvesOnce(described('STOPPED')).resolves(described('STARTING'));
    rekognition.on(StartStreamProcessorCommand).resolves({ SessionId: 's' });
    // when
    const response = await invoke(handlers['start-processor'], { method: 'POST', path: '/processor/start', query: { camera: 'front-door' } });
    // then
    expect(response.statusCode).toBe(200);
    expect(rekognition).toHaveReceivedCommandWith(StartStreamProcessorCommand, { Name: PROCESSOR });
    expect(rekognition).toHaveReceivedCommandWith(DescribeStreamProcessorCommand, { Name: PROCESSOR });
    expect(response.body.processors).toEqual([
      {
        camera: 'front-door',
        mode: 'managed',
        name: PROCESSOR,
        state: 'STARTING',
        changed: true,
        lastChangeAt: '2025-03-01T10:00:00.000Z',
        createdAt: '2025-02-01T10:00:00.000Z',
        videoStream: { name: 'facewatch-test-front-door', arn: 'arn:aws:kinesisvideo:us-east-1:000000000000:stream/facewatch-test-front-door/1' },
        dataStream: { name: 'facewatch-test-front-door-face-search', arn: 'arn:aws:kinesis:us-east-1:000000000000:stream/facewatch-test-front-door-face-search' },
        settings: { collectionId: 'facewatch-test-faces', faceMatchThreshold: 85.5 },
      },
    ]);
  });

  it('does not call Start for a running processor', async () => {
    // given
    rekognition.on(DescribeStreamProcessorCommand).resolves(described('RUNNING'));
    // when
    const response = await invoke(handlers['start-processor'], { method: 'POST', path: '/processor/start', query: { camera: 'front-door' } });
    // then
    expect(response.statusCode).toBe(200);
    expect(response.body.processors[0]).toMatchObject({ state: 'RUNNING', changed: false });
    expect(rekognition).not.toHaveReceivedCommand(StartStreamProcessorCommand);
  });

  it('answers 409 with the state when Rekognition refuses mid-transition', async () => {
    // given
    rekognition.on(DescribeStreamProcessorCommand).resolves(described('STOPPING'));
    rekognition.on(StartStreamProcessorCommand).rejects(Object.assign(new Error('busy'), { name: 'ResourceInUseException' }));
    // when
    const response = await invoke(handlers['start-processor'], { method: 'POST', path: '/processor/start', query: { camera: 'front-door' } });
    // then
    expect(response.statusCode).toBe(409);
    expect(response.body.error).toMatchObject({
      code: 'Conflict',
      details: { conflicts: [{ camera: 'front-door', state: 'STOPPING' }] },
      requestId: expect.stringMatching(/^req-/),
    });
  });

  it('answers 404 for an unknown camera and 400 for a malformed one', async () => {
    // when
    const unknown = await invoke(handlers['start-processor'], { method: 'POST', path: '/processor/start', query: { camera: 'attic' } });
    const malformed = await invoke(handlers['start-processor'], { method: 'POST', path: '/processor/start', query: { camera: 'Front Door' } });
    // then
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body.error.message).toContain('front-door, garage');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.body.error).toMatchObject({ code: 'ValidationError', field: 'camera' });
    expect(rekognition).not.toHaveReceivedCommand(StartStreamProcessorCommand);
  });
});

describe('POST /processor/stop and GET /processor', () => {
  it('stops every running processor when no camera is given', async () => {
    // given
    rekognition.on(DescribeStreamProcessorCommand).resolves(described('RUNNING'));
    rekognition.on(StopStreamProcessorCommand).resolves({});
    // when
    const response = await invoke(handlers['stop-processor'], { method: 'POST', path: '/processor/stop' });
    // then
    expect(response.statusCode).toBe(200);
    expect(rekognition).toHaveReceivedCommandWith(StopStreamProcessorCommand, { Name: PROCESSOR });
    expect(rekognition).toHaveReceivedCommandWith(StopStreamProcessorCommand, { Name: 'facewatch-test-garage' });
    expect(response.body.processors.map((p: { camera: string }) => p.camera)).toEqual(['front-door', 'garage']);
  });

  it('describes the processors', async () => {
    // given
    rekognition.on(DescribeStreamProcessorCommand).resolves(described('RUNNING'));
    // when
    const response = await invoke(handlers['describe-processor'], { method: 'GET', path: '/processor', query: { camera: 'front-door' } });
    // then
    expect(response.statusCode).toBe(200);
    expect(response.body.processors).toEqual([expect.objectContaining({ state: 'RUNNING', settings: { collectionId: 'facewatch-test-faces', faceMatchThreshold: 85.5 } })]);
  });

  it('answers 404 when the processor does not exist', async () => {
    // given
    rekognition.on(DescribeStreamProcessorCommand).rejects(Object.assign(new Error('nope'), { name: 'ResourceNotFoundException' }));
    // when
    const response = await invoke(handlers['describe-processor'], { method: 'GET', path: '/processor', query: { camera: 'garage' } });
    // then
    expect(response.statusCode).toBe(404);
    expect(response.body.error.message).toContain('facewatch-test-garage');
  });
});

describe('people routes', () => {
  it('GET /people/{personId} answers 404 with a JSON error for an unknown person', async () => {
    // given
    documents.on(QueryCommand).resolves({ Items: [] });
    // when
    const response = await invoke(handlers['get-person'], { method: 'GET', path: '/people/nobody', route: '/people/{personId}', pathParameters: { personId: 'nobody' } });
    // then
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.body).toEqual({ error: { code: 'NotFound', message: expect.stringContaining('"nobody"'), field: 'personId', requestId: expect.any(String) } });
  });

  it('GET /people/{personId} accepts a percent-encoded hashed id', async () => {
    // given
    documents.on(QueryCommand).resolves({
      Items: [{ pk: 'PERSON#Jose:0123456789abcdef', sk: 'PROFILE', personId: 'Jose:0123456789abcdef', displayName: 'José', rules: { muted: false, watchlist: true } }],
    });
    // when
    const response = await invoke(handlers['get-person'], { method: 'GET', path: '/people/Jose%3A0123456789abcdef', pathParameters: { personId: 'Jose%3A0123456789abcdef' } });
    // then
    expect(response.statusCode).toBe(200);
    expect(documents).toHaveReceivedCommandWith(QueryCommand, { ExpressionAttributeValues: { ':pk': 'PERSON#Jose:0123456789abcdef' } });
    expect(response.body).toMatchObject({ personId: 'Jose:0123456789abcdef', displayName: 'José', faces: [], rejectedPhotos: [] });
  });

  it('GET /people/{personId} answers 400 naming the field for a malformed id', async () => {
    // when
    const response = await invoke(handlers['get-person'], { method: 'GET', path: '/people/a b', pathParameters: { personId: 'a b' } });
    // then
    expect(response.statusCode).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'ValidationError', field: 'personId' });
  });

  it('PATCH /people/{personId} updates only the rules given', async () => {
    // given
    documents.on(UpdateCommand).resolves({ Attributes: { personId: 'bob', displayName: 'bob', rules: { muted: true, watchlist: false } } });
    documents.on(QueryCommand).resolves({ Items: [{ pk: 'PERSON#bob', sk: 'PROFILE', personId: 'bob', displayName: 'bob', rules: { muted: true, watchlist: false } }] });
    // when
    const response = await invoke(handlers['update-person'], { method: 'PATCH', path: '/people/bob', pathParameters: { personId: 'bob' }, body: { muted: true } });
    // then
    expect(response.statusCode).toBe(200);
    expect(documents).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: env.PEOPLE_TABLE,
      Key: { pk: 'PERSON#bob', sk: 'PROFILE' },
      UpdateExpression: 'SET updatedAt = :now, #rules.#muted = :muted',
      ConditionExpression: 'attribute_exists(#pk)',
      ExpressionAttributeValues: { ':now': expect.any(String), ':muted': true },
    });
    expect(response.body.rules).toEqual({ muted: true, watchlist: false });
  });

  it.each([
    ['malformed JSON', '{"muted":', 'body'],
    ['a wrong type', { muted: 'yes' }, 'muted'],
    ['an unknown field', { muted: true, vip: true }, 'body'],
    ['no rule at all', {}, 'body'],
  ])('PATCH /people/{personId} answers 400 for %s', async (_, body, field) => {
    // when
    const response = await invoke(handlers['update-person'], { method: 'PATCH', path: '/people/bob', pathParameters: { personId: 'bob' }, body });
    // then
    expect(response.statusCode).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'ValidationError', field });
    expect(documents).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('PATCH /people/{personId} answers 404 for an unknown person', async () => {
    // given
    documents.on(UpdateCommand).rejects(Object.assign(new Error('failed'), { name: 'ConditionalCheckFailedException' }));
    // when
    const response = await invoke(handlers['update-person'], { method: 'PATCH', path: '/people/bob', pathParameters: { personId: 'bob' }, body: { watchlist: true } });
    // then
    expect(response.statusCode).toBe(404);
  });

  it('DELETE /people/{personId} sends the deletes for faces, photos, sightings, alert state and records', async () => {
    // given bob with one photo, one sighting and an alert state on the garage camera
    documents
      .on(QueryCommand, { TableName: env.PEOPLE_TABLE })
      .resolves({
        Items: [
          { pk: 'PERSON#bob', sk: 'PROFILE', personId: 'bob', displayName: 'bob', rules: { muted: false, watchlist: false } },
          { pk: 'PERSON#bob', sk: 'PHOTO#faces/bob/1.jpg', personId: 'bob', photoKey: 'faces/bob/1.jpg', status: 'indexed', faces: [{ faceId: 'f-1' }] },
        ],
      })
      .on(QueryCommand, { TableName: env.SIGHTINGS_TABLE })
      .resolves({ Items: [{ sightingId: 's-1' }] })
      .on(BatchWriteCommand)
      .resolves({})
      .on(DeleteCommand, { Key: { alertKey: 'bob#garage' } })
      .resolves({ Attributes: { alertKey: 'bob#garage' } })
      .on(DeleteCommand, { Key: { alertKey: 'bob#front-door' } })
      .resolves({});
    rekognition.on(DeleteFacesCommand).resolves({ DeletedFaces: ['f-1'] });
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'faces/bob/1.jpg' }, { Key: 'faces/bob/new.jpg' }] });
    s3.on(DeleteObjectsCommand).resolves({ Deleted: [{ Key: 'faces/bob/1.jpg' }, { Key: 'faces/bob/new.jpg' }] });
    // when
    const response = await invoke(handlers['erase-person'], { method: 'DELETE', path: '/people/bob', pathParameters: { personId: 'bob' } });
    // then
    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual({ personId: 'bob', removed: { faces: 1, photos: 2, records: 2, sightings: 1, alertStates: 1 } });
    expect(rekognition).toHaveReceivedCommandWith(DeleteFacesCommand, { CollectionId: env.COLLECTION_ID, FaceIds: ['f-1'] });
    expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: env.FACES_BUCKET, Prefix: 'faces/bob/' });
    expect(s3).toHaveReceivedCommandWith(DeleteObjectsCommand, {
      Bucket: env.FACES_BUCKET,
      Delete: { Objects: [{ Key: 'faces/bob/1.jpg' }, { Key: 'faces/bob/new.jpg' }], Quiet: false },
    });
    expect(documents).toHaveReceivedCommandWith(QueryCommand, { TableName: env.SIGHTINGS_TABLE, IndexName: 'byPerson', ExpressionAttributeValues: { ':pk': 'bob' } });
    expect(documents).toHaveReceivedCommandWith(BatchWriteCommand, { RequestItems: { [env.SIGHTINGS_TABLE]: [{ DeleteRequest: { Key: { sightingId: 's-1' } } }] } });
    expect(documents).toHaveReceivedCommandWith(BatchWriteCommand, {
      RequestItems: {
        [env.PEOPLE_TABLE]: [
          { DeleteRequest: { Key: { pk: 'PERSON#bob', sk: 'PROFILE' } } },
          { DeleteRequest: { Key: { pk: 'PERSON#bob', sk: 'PHOTO#faces/bob/1.jpg' } } },
        ],
      },
    });
    expect(documents).toHaveReceivedCommandTimes(DeleteCommand, 2);
  });
});

describe('GET /sightings', () => {
  it('reads the byPerson index newest first within the window', async () => {
    // given
    documents.on(QueryCommand).resolves({ Items: [] });
    // when
    const response = await invoke(handlers['list-sightings'], {
      method: 'GET',
      path: '/sightings',
      query: { personId: 'bob', since: '2025-03-01T00:00:00Z', until: '2025-03-02T00:00:00+01:00', limit: '10' },
    });
    // then
    expect(response.statusCode).toBe(200);
    expect(response.body).toEqual({ sightings: [] });
    expect(documents).toHaveReceivedCommandWith(QueryCommand, {
      TableName: env.SIGHTINGS_TABLE,
      IndexName: 'byPerson',
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :since AND :until',
      ExpressionAttributeValues: { ':pk': 'bob', ':since': '2025-03-01T00:00:00.000Z', ':until': '2025-03-01T23:00:00.000Z' },
      ScanIndexForward: false,
      Limit: 10,
    });
  });

  it.each([
    [{ limit: '501' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ since: 'yesterday' }, 'since'],
    [{ camera: 'Front Door' }, 'camera'],
    [{ personId: 'a/b' }, 'personId'],
    [{ cursor: 'not a cursor!' }, 'cursor'],
    [{ cursor: 'bm90LWpzb24' }, 'cursor'],
  ])('answers 400 for %j naming the field', async (query, field) => {
    // when
    const response = await invoke(handlers['list-sightings'], { method: 'GET', path: '/sightings', query });
    // then
    expect(response.statusCode).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'ValidationError', field });
  });

  it('answers 500 with the request id and no internals on an unexpected error', async () => {
    // given
    documents.on(QueryCommand).rejects(new Error('socket hang up at /var/task/secret.js:12'));
    // when
    const response = await invoke(handlers['list-sightings'], { method: 'GET', path: '/sightings', query: { camera: 'garage' } });
    // then
    expect(response.statusCode).toBe(500);
    expect(response.body).toEqual({ error: { code: 'InternalError', message: expect.any(String), requestId: expect.stringMatching(/^req-/) } });
    expect(JSON.stringify(response.body)).not.toContain('secret.js');
  });
});

describe('authentication', () => {
  it('answers 401 on every route when the request has no IAM caller', async () => {
    for (const [name, handler] of Object.entries(handlers)) {
      const response = await invoke(handler, { method: 'GET', path: `/${name}`, pathParameters: { personId: 'bob' }, iam: false });
      expect({ name, status: response.statusCode, code: response.body.error.code }).toEqual({ name, status: 401, code: 'Unauthorized' });
    }
    expect(rekognition.calls()).toHaveLength(0);
    expect(documents.calls()).toHaveLength(0);
  });

  describe('with a local token (API_TOKEN_SHA256)', () => {
    const token = 'local-secret-token';
    const digest = createHash('sha256').update(token).digest('hex');
    const handler = apiHandler(async () => json(200, { ok: true }), { API_TOKEN_SHA256: digest });

    it('accepts the bearer token', async () => {
      // when
      const response = await invoke(handler, { method: 'GET', path: '/people', headers: { authorization: `Bearer ${token}` }, iam: false });
      // then
      expect(response).toMatchObject({ statusCode: 200, body: { ok: true } });
    });

    it.each([
      ['no header', {}],
      ['a wrong token', { authorization: 'Bearer wrong' }],
      ['another scheme', { authorization: `Basic ${token}` }],
    ])('refuses %s with 401, even with an IAM caller', async (_, headers) => {
      // when
      const response = await invoke(handler, { method: 'GET', path: '/people', headers });
      // then
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.body.error).toMatchObject({ code: 'Unauthorized', message: expect.stringContaining('.facewatch/api-token') });
    });

    it('refuses a malformed digest at cold start', () => {
      expect(() => apiHandler(async () => json(200, {}), { API_TOKEN_SHA256: 'abc' })).toThrow(/API_TOKEN_SHA256/);
    });
  });
});
