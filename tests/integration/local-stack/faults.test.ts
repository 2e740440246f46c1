/**
 * Fault injection in the single endpoint: AWS's errors by service, operation and rate, added latency, the
 * control route — seen through the SDK's own clients, as the functions see them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { parseFaults } from '../../../local/gateway/faults';
import { startGateway, type Gateway } from '../../../local/gateway/server';
import { startDynamoDb, type Running } from '../../../local/stack/backends';
import { startSnsServer, type SnsServer } from '../../../local/sns/server';

jest.setTimeout(30_000);

describe('fault injection in the local endpoint', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-faults-'));
  let dynamo: Running;
  let sns: SnsServer;
  let gateway: Gateway;
  let db: DynamoDBClient;
  let snsClient: SNSClient;
  let topicArn: string;

  beforeAll(async () => {
    dynamo = await startDynamoDb(path.join(dir, 'dynamodb'));
    sns = await startSnsServer({ dataDir: path.join(dir, 'sns'), outboxDir: path.join(dir, 'outbox'), smtp: { host: '127.0.0.1', port: 9 } });
    gateway = await startGateway({ services: { dynamodb: dynamo.url, sns: sns.url } });
    const config = {
      region: 'us-east-1',
      endpoint: gateway.url,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1, // no SDK retries: every injected fault is seen
      requestHandler: new NodeHttpHandler(),
    };
    db = new DynamoDBClient(config);
    snsClient = new SNSClient(config);
    await db.send(
      new CreateTableCommand({ TableName: 'faults', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }),
    );
    ({ TopicArn: topicArn } = (await snsClient.send(new CreateTopicCommand({ Name: 'faults' }))) as { TopicArn: string });
  });
  afterEach(() => gateway.faults.set([]));
  afterAll(async () => {
    await gateway.close();
    await sns.close();
    await dynamo.close();
  });

  const put = (pk: string) => db.send(new PutItemCommand({ TableName: 'faults', Item: { pk: { S: pk } } }));

  it('answers DynamoDB PutItem with ProvisionedThroughputExceededException at the set rate, other operations untouched', async () => {
    // Given 30 % of PutItem throttled
    gateway.faults.set(parseFaults('dynamodb.PutItem:0.3'));

    // When 200 items are put, and one read
    const outcomes = await Promise.all(Array.from({ length: 200 }, (_, i) => put(`k${i}`).then(() => 'ok', (e: Error) => e.name)));
    await db.send(new GetItemCommand({ TableName: 'faults', Key: { pk: { S: 'k0' } } }));

    // Then about 30 % failed with AWS's error (the SDK recognises it: it is retryable throttling), the read did not
    const throttled = outcomes.filter((o) => o === 'ProvisionedThroughputExceededException').length;
    expect(outcomes.filter((o) => o !== 'ok' && o !== 'ProvisionedThroughputExceededException')).toEqual([]);
    expect(throttled).toBeGreaterThan(30);
    expect(throttled).toBeLessThan(90);
    expect(gateway.faults.list()[0]).toMatchObject({ matched: 200, injected: throttled, active: true });
  });

  it('answers SNS Publish with InternalFailure (the query protocol), and a rule ends after its duration', async () => {
    // Given a rule failing every SNS Publish for 1 s
    gateway.faults.set(parseFaults('sns.Publish:1:InternalFailure::1'));
    // When a message is published, then it fails with InternalFailure (500)
    await expect(snsClient.send(new PublishCommand({ TopicArn: topicArn, Message: 'hi' }))).rejects.toMatchObject({ name: 'InternalFailure', $metadata: { httpStatusCode: 500 } });
    // When it is published again after the rule's duration, then it is delivered and the rule counted one fault and is no longer active
    await new Promise((r) => setTimeout(r, 1_100));
    await expect(snsClient.send(new PublishCommand({ TopicArn: topicArn, Message: 'hi' }))).resolves.toMatchObject({ MessageId: expect.any(String) });
    expect(gateway.faults.list()).toEqual([expect.objectContaining({ injected: 1, active: false })]);
  });

  it('adds latency without failing, and is driven by the control route', async () => {
    // Given 300 ms latency on DynamoDB, set through /_facewatch/faults
    const set = await fetch(`${gateway.url}/_facewatch/faults`, { method: 'PUT', body: JSON.stringify({ rules: [{ service: 'dynamodb', latencyMs: 300 }] }) });
    expect(set.status).toBe(200);

    // When an item is put
    const started = Date.now();
    await put('slow');

    // Then it succeeded, 300 ms later; the route lists the rule; a wrong rule is refused with the reason; DELETE clears
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(((await (await fetch(`${gateway.url}/_facewatch/faults`)).json()) as { rules: unknown[] }).rules).toEqual([expect.objectContaining({ service: 'dynamodb', latencyMs: 300, matched: 1, injected: 0 })]);
    const wrong = await fetch(`${gateway.url}/_facewatch/faults`, { method: 'PUT', body: JSON.stringify([{ service: 'dynamodb', rate: 3 }]) });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { message: string }).message).toMatch(/rate must be a number from 0 to 1/);
    await fetch(`${gateway.url}/_facewatch/faults`, { method: 'DELETE' });
    expect(gateway.faults.list()).toEqual([]);
  });
});
