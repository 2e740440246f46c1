/** DynamoDB TTL locally: expired items are removed; live ones, renewed ones and ones without a number stay. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startDynamoDb, type Running } from '../../../local/stack/backends';
import { startTtlSweeper, sweepExpired } from '../../../local/stack/ttl-sweeper';

describe('TTL sweeper', () => {
  let dynamo: Running;
  let client: DynamoDBClient;
  const table = { tableName: 'ttl-test', attributeName: 'expiresAt', keyNames: ['pk', 'sk'] };

  beforeAll(async () => {
    dynamo = await startDynamoDb(fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-ttl-')));
    client = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, requestHandler: new NodeHttpHandler() });
    await client.send(
      new CreateTableCommand({
        TableName: table.tableName,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });
  afterAll(() => dynamo.close());

  const keys = async () => ((await client.send(new ScanCommand({ TableName: table.tableName }))).Items ?? []).map((i) => i.sk.S).sort();

  it('removes the items whose TTL is in the past, on a sweep and on the timer', async () => {
    const now = Math.floor(Date.now() / 1000);
    const put = (sk: string, expiresAt?: { N: string } | { S: string }) => client.send(new PutItemCommand({ TableName: table.tableName, Item: { pk: { S: 'p' }, sk: { S: sk }, ...(expiresAt ? { expiresAt } : {}) } }));
    // Given an expired item, a live one, one without TTL and one whose TTL is not a number
    await put('expired', { N: String(now - 10) });
    await put('live', { N: String(now + 3600) });
    await put('no-ttl');
    await put('not-a-number', { S: 'yesterday' });

    // When the table is swept, then only the expired item is removed
    expect(await sweepExpired(client, table, now)).toBe(1);
    expect(await keys()).toEqual(['live', 'no-ttl', 'not-a-number']);

    // Given another expired item
    // When the sweeper runs on its timer
    await put('expired-later', { N: String(now - 1) });
    const sweeper = startTtlSweeper(client, [table], () => undefined, 50);
    for (let i = 0; i < 40 && (await keys()).includes('expired-later'); i += 1) await new Promise((r) => setTimeout(r, 50));
    // Then it is removed as well
    await sweeper.stop();
    expect(await keys()).toEqual(['live', 'no-ttl', 'not-a-number']);
  });
});
