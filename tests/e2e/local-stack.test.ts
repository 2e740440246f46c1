/**
 * The local stack end to end: `startLocalStack` on free ports in a temp data dir, then only what a user
 * has — the single AWS endpoint, the HTTP API with its token, the outbox — with the real bundled handlers.
 * One stack for the file (starting one takes ~20-30 s); the tests run in order and build on each other.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { ListFacesCommand, RekognitionClient } from '@aws-sdk/client-rekognition';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { LOCAL_CREDENTIALS, startLocalStack, type LocalStack } from '../../local/stack/stack';
import { faceSearchRecord, matchedFace } from '../fixtures/face-search-records';
import { dlibFaces } from '../support/dlib';

jest.setTimeout(180_000);

const PERSON_FOLDER = 'Tom Cruise';
const photoDir = dlibFaces();
const describeWithPhotos = photoDir ? describe : describe.skip;

function clients(stack: LocalStack) {
  const config = {
    region: 'us-east-1',
    endpoint: stack.endpoint,
    credentials: LOCAL_CREDENTIALS,
    requestHandler: new NodeHttpHandler(),
  };
  return {
    s3: new S3Client({ ...config, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' }),
    kinesis: new KinesisClient(config),
    rekognition: new RekognitionClient(config),
  };
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

const resourceRef = (stack: LocalStack, type: string) => {
  const found = Object.values(stack.stackInfo.resources).find((r) => r.type === type);
  if (!found) throw new Error(`The stack has no ${type}`);
  return found;
};

describeWithPhotos('local stack: npm start, end to end', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-e2e-'));
  let stack: LocalStack;
  let personId: string;
  let faceId: string;
  let frameTime = Math.floor(Date.now() / 1000) - 60;
  let firstRecord: ReturnType<typeof faceSearchRecord>;

  const api = async (pathAndQuery: string, token = stack.token) => {
    const response = await fetch(`${stack.apiUrl}${pathAndQuery}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: response.status, body: (await response.json()) as any };
  };
  const outbox = () => (fs.existsSync(path.join(dataDir, 'outbox')) ? fs.readdirSync(path.join(dataDir, 'outbox')).sort() : []);
  const sightingsOf = async (id: string) => (await api(`/sightings?personId=${encodeURIComponent(id)}`)).body.sightings as { sightingId: string; camera: string }[];

  const putRecord = async (data: string | object, partitionKey = 'camera') => {
    const stream = resourceRef(stack, 'AWS::Kinesis::Stream').ref;
    await clients(stack).kinesis.send(
      new PutRecordCommand({ StreamName: stream, PartitionKey: partitionKey, Data: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)) }),
    );
  };
  /** A frame in which the registered person was recognised, from the camera's real video stream. */
  const frameWithPerson = (fragment: string) => {
    frameTime += 5;
    return faceSearchRecord({
      streamArn: resourceRef(stack, 'AWS::KinesisVideo::Stream').attributes.Arn,
      fragmentNumber: fragment,
      producerTimestamp: frameTime,
      faces: [{ matches: [matchedFace(personId, 99.2, faceId)] }],
    });
  };

  beforeAll(async () => {
    stack = await startLocalStack({ dataDir, port: 0, apiPort: 0, mailPort: 0, quiet: true });
  });

  afterAll(async () => {
    await stack?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('the stack describes itself in stack.json and the API refuses calls without the token', async () => {
    // Given the stack started in beforeAll
    // Then stack.json names its endpoints and resources, the token file is owner-only
    const written = JSON.parse(fs.readFileSync(path.join(dataDir, 'stack.json'), 'utf8'));
    expect(written.endpoint).toBe(stack.endpoint);
    expect(written.apiUrl).toBe(stack.apiUrl);
    expect(Object.values(written.resources).map((r: any) => r.type)).toEqual(
      expect.arrayContaining(['AWS::S3::Bucket', 'AWS::DynamoDB::Table', 'AWS::Kinesis::Stream', 'AWS::SNS::Topic', 'AWS::Rekognition::Collection']),
    );
    expect(fs.statSync(path.join(dataDir, 'api-token')).mode & 0o777).toBe(0o600);
    // And the consumer's mapping reads the data stream through its enhanced fan-out consumer, as declared
    // The consumer's mapping reads the data stream through its enhanced fan-out consumer, as declared.
    const stream = resourceRef(stack, 'AWS::Kinesis::Stream');
    const consumer = resourceRef(stack, 'AWS::Kinesis::StreamConsumer');
    expect(consumer.attributes.StreamARN).toBe(stream.attributes.Arn);
    expect(written.eventSources).toEqual([expect.objectContaining({ function: 'ConsumeFaceSearchLambdaFunction', stream: stream.attributes.Arn, consumer: consumer.ref })]);

    // When the API is called without the token, then it answers 401
    const anonymous = await api('/people', '');
    expect(anonymous.status).toBe(401);
  });

  test('a face photo uploaded to faces/<person>/ registers the person', async () => {
    // Given a photo of a person
    const bucket = resourceRef(stack, 'AWS::S3::Bucket').ref;
    const photo = fs.readFileSync(path.join(photoDir!, 'Tom_Cruise_avp_2014_4.jpg'));

    // When it is uploaded under faces/<person>/
    await clients(stack).s3.send(new PutObjectCommand({ Bucket: bucket, Key: `faces/${PERSON_FOLDER}/portrait.jpg`, Body: photo, ContentType: 'image/jpeg' }));

    // Then GET /people lists the person with one face, and the face is in the collection under the person's id
    const person = await eventually('the person in GET /people', async () => {
      const { status, body } = await api('/people');
      expect(status).toBe(200);
      return (body.people as { personId: string; displayName: string; faces: { faceId: string }[] }[]).find((p) => p.displayName === PERSON_FOLDER && p.faces.length > 0);
    });
    expect(person.faces).toHaveLength(1);
    personId = person.personId;
    faceId = person.faces[0].faceId;
    // The face is really in the collection, under the person's id.
    const collection = stack.stackInfo.resources.FaceCollection.ref; // the people's (the other one is the visitors')
    const { Faces } = await clients(stack).rekognition.send(new ListFacesCommand({ CollectionId: collection }));
    expect(Faces?.map((f) => [f.FaceId, f.ExternalImageId])).toContainEqual([faceId, personId]);
  });

  test('a face-search record of the person becomes a sighting and exactly one alert', async () => {
    // Given no alert yet
    expect(outbox()).toHaveLength(0);

    // When a face-search record of the person arrives on the data stream
    firstRecord = frameWithPerson('1001');
    await putRecord(firstRecord);

    // Then it becomes one sighting on the front door
    const sightings = await eventually('a sighting in GET /sightings', async () => {
      const list = await sightingsOf(personId);
      return list.length ? list : undefined;
    });
    expect(sightings).toHaveLength(1);
    expect(sightings[0].camera).toBe('front-door');
    // And exactly one alert is published, delivered by email and sms
    const alerts = await eventually('an alert in the outbox', async () => (outbox().length ? outbox() : undefined));
    expect(alerts).toHaveLength(1);
    const alert = JSON.parse(fs.readFileSync(path.join(dataDir, 'outbox', alerts[0]), 'utf8'));
    expect(alert.TopicArn).toBe(resourceRef(stack, 'AWS::SNS::Topic').ref);
    // The local stage subscribes an email address (→ the mail catcher) and a phone (→ the console).
    expect(alert.deliveries.map((d: { protocol: string; status: string }) => [d.protocol, d.status]).sort()).toEqual([
      ['email', 'delivered'],
      ['sms', 'delivered'],
    ]);
    // And the mail catcher has its email, naming the person
    const mails = await eventually('the email in the mail catcher', async () => {
      const list = (await (await fetch(`${stack.mailUrl}/api/email`)).json()) as { subject: string; text: string }[];
      return list.length ? list : undefined;
    });
    expect(mails).toHaveLength(1);
    expect(mails[0].subject).toBe(alert.Subject);
    expect(mails[0].text).toContain(PERSON_FOLDER);
    // The email links the sighting's page in the local console (the stack sets CONSOLE_URL to its own HTTP API).
    expect(mails[0].text).toContain(`${stack.apiUrl}/console/#/sightings/${sightings[0].sightingId}`);
  });

  test('the console\'s /api twin of every route answers with the token, like the original route, and refuses calls without it', async () => {
    // Every route of the template is served twice: as declared (IAM on AWS) and under /api (Cognito on AWS), same function.
    const routes = stack.stackInfo.routes;
    const originals = routes.filter((r) => !r.routeKey.includes(' /api/'));
    expect(originals.length).toBeGreaterThanOrEqual(8);
    for (const route of originals) {
      const [method, routePath] = route.routeKey.split(' ');
      expect(routes).toContainEqual({ routeKey: `${method} /api${routePath}`, function: route.function });
    }

    const twin = await api(`/api/sightings?personId=${encodeURIComponent(personId)}`);
    expect(twin.status).toBe(200);
    expect(twin.body.sightings).toHaveLength(1);
    expect(twin.body).toEqual((await api(`/sightings?personId=${encodeURIComponent(personId)}`)).body);
    expect((await api('/api/sightings', '')).status).toBe(401);
    expect((await api('/api/sightings', 'not-the-token')).status).toBe(401);
  });

  test('the same record delivered again adds no sighting and no alert', async () => {
    // Given the alerts so far
    const before = outbox();

    // When the first record is delivered again, followed by a record of an unknown face
    await putRecord(firstRecord);
    // A later frame with an unknown face marks that the duplicate has been consumed (records stay in order).
    await putRecord(
      faceSearchRecord({ streamArn: firstRecord.InputInformation.KinesisVideo.StreamArn, fragmentNumber: '1002', producerTimestamp: frameTime + 1, faces: [{ matches: [] }] }),
    );
    await eventually('the unknown face after the duplicate', async () => {
      const unknown = (await api('/sightings?personId=UNKNOWN')).body.sightings;
      return unknown?.length ? unknown : undefined;
    });

    // Then the person still has one sighting and no alert was added
    expect(await sightingsOf(personId)).toHaveLength(1);
    expect(outbox()).toEqual(before);
  });

  test('a poison record is skipped and the next good record is still processed', async () => {
    // When a record that is not a face-search record arrives, followed by a good one
    await putRecord('{"this is": not a face-search record');
    await putRecord(frameWithPerson('1003'));

    // Then the good one becomes the person's second sighting
    const sightings = await eventually('the good record after the poison one', async () => {
      const list = await sightingsOf(personId);
      return list.length === 2 ? list : undefined;
    });
    expect(sightings).toHaveLength(2);
  });

  test('after a restart on the same data dir, everything is still there and the pipeline still runs', async () => {
    // Given the stack's state so far
    // When it stops and starts again on the same data dir
    const alertsBefore = outbox();
    const bucket = resourceRef(stack, 'AWS::S3::Bucket').ref;
    await stack.stop();

    stack = await startLocalStack({ dataDir, port: 0, apiPort: 0, mailPort: 0, quiet: true });

    // Then the person, the sightings, the alerts and the photo are still there
    const people = (await api('/people')).body.people as { personId: string }[];
    expect(people.map((p) => p.personId)).toContain(personId);
    expect(await sightingsOf(personId)).toHaveLength(2);
    expect(outbox()).toEqual(alertsBefore);
    await expect(clients(stack).s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `faces/${PERSON_FOLDER}/portrait.jpg` }))).resolves.toBeDefined();
    // And a new record still becomes a sighting
    // The consumer's mapping starts at LATEST, like a new Lambda mapping: give its poller a moment to take its position.
    await new Promise((r) => setTimeout(r, 2_000));
    await putRecord(frameWithPerson('1004'));
    await eventually('a sighting after the restart', async () => ((await sightingsOf(personId)).length === 3 ? true : undefined));
  });

  describe('the seed\'s own AWS CLI commands against the endpoint', () => {
    const exec = promisify(execFile);
    let cliAvailable = true;
    const aws = async (...args: string[]) => {
      const { stdout } = await exec('aws', ['--endpoint-url', stack.endpoint, '--output', 'json', ...args], {
        env: {
          PATH: process.env.PATH,
          HOME: dataDir,
          // Any key works against the local endpoint (LocalStack's convention), S3 included.
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_CONFIG_FILE: path.join(dataDir, 'no-aws-config'),
          AWS_SHARED_CREDENTIALS_FILE: path.join(dataDir, 'no-aws-credentials'),
        },
        timeout: 60_000,
      });
      // `aws s3 …` prints progress text; the API commands print JSON.
      return stdout.trim().startsWith('{') ? JSON.parse(stdout) : { output: stdout.trim() };
    };

    beforeAll(async () => {
      try {
        await exec('aws', ['--version']);
      } catch {
        cliAvailable = false;
        console.warn('SKIPPED the AWS CLI tests: `aws` is not installed (apt-get install -y awscli)');
      }
    });

    test('create-collection, index-faces from S3, create/describe/list-stream-processor', async () => {
      if (!cliAvailable) return;
      const photo = path.join(photoDir!, 'Tom_Cruise_avp_2014_4.jpg');
      // Given a photo in a bucket made with the CLI
      expect((await aws('s3', 'mb', 's3://seed-bucket')).output).toContain('make_bucket: seed-bucket');
      expect((await aws('s3', 'cp', photo, 's3://seed-bucket/jhb.jpg')).output).toContain('upload:');

      // When the seed's commands create a collection and index the photo from S3, then each answers as AWS does
      const created = await aws('rekognition', 'create-collection', '--collection-id', 'JhbCollection');
      expect(created.StatusCode).toBe(200);
      expect(created.CollectionArn).toContain('JhbCollection');

      const indexed = await aws(
        'rekognition', 'index-faces',
        '--image', JSON.stringify({ S3Object: { Bucket: 'seed-bucket', Name: 'jhb.jpg' } }),
        '--collection-id', 'JhbCollection',
        '--max-faces', '1', '--quality-filter', 'AUTO', '--detection-attributes', 'ALL',
        '--external-image-id', 'Jhb',
      );
      expect(indexed.FaceRecords).toHaveLength(1);
      expect(indexed.FaceRecords[0].Face.ExternalImageId).toBe('Jhb');
      expect(indexed.FaceRecords[0].FaceDetail.Landmarks.map((l: { Type: string }) => l.Type)).toEqual(expect.arrayContaining(['eyeLeft', 'eyeRight', 'nose']));

      // When a video stream, a data stream and a stream processor between them are created
      const video = await aws('kinesisvideo', 'create-stream', '--stream-name', 'Raspberry1', '--data-retention-in-hours', '24');
      await aws('kinesis', 'create-stream', '--stream-name', 'AmazonRekognitionJhb', '--shard-count', '1');
      const dataStream = await eventually('the data stream to be active', async () => {
        const d = await aws('kinesis', 'describe-stream', '--stream-name', 'AmazonRekognitionJhb');
        return d.StreamDescription.StreamStatus === 'ACTIVE' ? d.StreamDescription.StreamARN : undefined;
      });
      const processor = await aws(
        'rekognition', 'create-stream-processor',
        '--input', JSON.stringify({ KinesisVideoStream: { Arn: video.StreamARN } }),
        '--name', 'JhbProcessor',
        '--role-arn', 'arn:aws:iam::000000000000:role/RekognitionJhb',
        '--stream-processor-output', JSON.stringify({ KinesisDataStream: { Arn: dataStream } }),
        '--settings', JSON.stringify({ FaceSearch: { CollectionId: 'JhbCollection', FaceMatchThreshold: 85.5 } }),
      );
      expect(processor.StreamProcessorArn).toContain('JhbProcessor');

      // Then the processor is described STOPPED with its streams and settings, and listed
      const described = await aws('rekognition', 'describe-stream-processor', '--name', 'JhbProcessor');
      expect(described.Status).toBe('STOPPED');
      expect(described.Input.KinesisVideoStream.Arn).toBe(video.StreamARN);
      expect(described.Output.KinesisDataStream.Arn).toBe(dataStream);
      expect(described.Settings.FaceSearch).toEqual({ CollectionId: 'JhbCollection', FaceMatchThreshold: 85.5 });

      const listed = await aws('rekognition', 'list-stream-processors');
      expect(listed.StreamProcessors).toContainEqual({ Name: 'JhbProcessor', Status: 'STOPPED' });
    });
  });
});
