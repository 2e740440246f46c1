/**
 * Photo events indexFace gave up on: the S3 notification router keeps them in the function's on-failure
 * destination as Lambda's record, and `facewatch photos replay` sends them to indexFace again, through the
 * local SQS (real queue semantics) and a recording stand-in for indexFace.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { replayPhotoEvents } from '../../../local/cli/commands/photos';
import { startGateway, type Gateway } from '../../../local/gateway/server';
import { startSqsServer, type SqsServer } from '../../../local/sqs/server';
import { S3NotificationRouter, type AsyncFailureRecord } from '../../../local/stack/s3-notifications';

let dir: string;
let sqs: SqsServer;
let gateway: Gateway;
let client: SQSClient;
let queueUrl: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-replay-'));
  sqs = await startSqsServer({ dataDir: path.join(dir, 'sqs') });
  gateway = await startGateway({ services: { sqs: sqs.url } });
  client = new SQSClient({ endpoint: gateway.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, requestHandler: new NodeHttpHandler() });
  queueUrl = (await client.send(new CreateQueueCommand({ QueueName: 'photo-events-dlq' }))).QueueUrl!;
});
afterAll(async () => {
  await gateway.close();
  await sqs.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:facewatch-local-indexFace';
const change = (key: string) => ({ bucket: 'faces', key, eventName: 'ObjectCreated:Put', size: 10 });

/** indexFace as the replay sees it: fails for the keys in `broken`, records every event it gets. */
function indexFace(broken: Set<string>) {
  const received: string[] = [];
  const lambda = {
    send: async (command: InvokeCommand) => {
      const event = JSON.parse(Buffer.from(command.input.Payload as Uint8Array).toString('utf8'));
      const key = decodeURIComponent(event.Records[0].s3.object.key.replace(/\+/g, ' '));
      received.push(key);
      return broken.has(key)
        ? { FunctionError: 'Unhandled', Payload: Buffer.from(JSON.stringify({ errorType: 'ThrottlingException', errorMessage: 'Rate exceeded' })) }
        : { Payload: Buffer.from('{"processed":1}') };
    },
  } as unknown as LambdaClient;
  return { lambda, received };
}

describe('photo events indexFace gave up on', () => {
  it('given a photo event that fails every attempt, when the router gives up, then Lambda\'s failure record goes to the destination', async () => {
    // given
    const kept: AsyncFailureRecord[] = [];
    let attempts = 0;
    const target = { invoke: async () => ((attempts += 1), { error: { errorType: 'ResourceNotFoundException', errorMessage: 'no such face' } }) };
    const router = new S3NotificationRouter(
      new Map([['faces', [{ event: 's3:ObjectCreated:*', functionArn: FUNCTION_ARN, prefix: 'faces/', configurationId: 'c' }]]]),
      () => target as never,
      'us-east-1',
      () => undefined,
      [0, 0],
      (arn) => (arn === FUNCTION_ARN ? async (record) => void kept.push(record) : undefined),
    );
    // when
    router.dispatch(change('faces/ann/one photo.jpg'));
    await router.idle();
    // then
    expect(attempts).toBe(3);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({
      requestContext: { functionArn: `${FUNCTION_ARN}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      responsePayload: { errorType: 'ResourceNotFoundException', errorMessage: 'no such face' },
    });
    expect((kept[0].requestPayload as { Records: { s3: { object: { key: string } } }[] }).Records[0].s3.object.key).toBe('faces/ann/one+photo.jpg');
  });

  it('given kept events, when replayed, then the ones indexFace now takes leave the queue and the one failing again stays', async () => {
    // given: three kept events, one of which still fails
    const records: AsyncFailureRecord[] = [];
    const router = new S3NotificationRouter(
      new Map([['faces', [{ event: 's3:ObjectCreated:*', functionArn: FUNCTION_ARN, prefix: 'faces/', configurationId: 'c' }]]]),
      () => ({ invoke: async () => ({ error: { errorType: 'ServiceUnavailable', errorMessage: 'down' } }) }) as never,
      'us-east-1',
      () => undefined,
      [],
      () => async (record) => void records.push(record),
    );
    for (const key of ['faces/ann/a.jpg', 'faces/bob/b.jpg', 'faces/cy/c.jpg']) router.dispatch(change(key));
    await router.idle();
    for (const record of records) await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(record) }));
    const log: string[] = [];

    // when: a dry run, then the replay
    const dry = await replayPhotoEvents({ sqs: client, lambda: indexFace(new Set()).lambda, queueUrl, functionName: 'indexFace', log: (l) => log.push(l) }, true);
    const fn = indexFace(new Set(['faces/bob/b.jpg']));
    const replay = await replayPhotoEvents({ sqs: client, lambda: fn.lambda, queueUrl, functionName: 'indexFace', log: (l) => log.push(l) }, false);

    // then: the dry run invoked nothing and left all three; the replay took two out
    expect(dry).toEqual({ kept: 3, replayed: 0, failed: 0 });
    expect(log.filter((l) => l.startsWith('kept: '))).toHaveLength(3);
    expect(log.some((l) => l.includes('faces/ann/a.jpg — failed with ServiceUnavailable: down'))).toBe(true);
    expect(replay).toEqual({ kept: 3, replayed: 2, failed: 1 });
    expect(fn.received.sort()).toEqual(['faces/ann/a.jpg', 'faces/bob/b.jpg', 'faces/cy/c.jpg']);
    const left = sqs.peek('photo-events-dlq').map((m) => JSON.parse(m.Body).requestPayload.Records[0].s3.object.key);
    expect(left).toEqual(['faces/bob/b.jpg']);
  });
});
