/**
 * DynamoDB TTL for the local stack: dynalite keeps no TTL, so every ~30 s each table with a
 * TimeToLiveSpecification is scanned for items whose TTL attribute (epoch seconds) is in the past, and those
 * are deleted. AWS deletes expired items "within a few days" and hides none of them from reads before
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html); here they go within
 * about 30 s. Items whose attribute is not a number are never expired, as on AWS.
 */
import { DeleteItemCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface TtlTable {
  tableName: string;
  attributeName: string;
  keyNames: string[];
}

export const TTL_SWEEP_MS = 30_000;

/** Deletes the expired items of one table; answers how many. */
export async function sweepExpired(client: DynamoDBClient, table: TtlTable, nowSeconds = Math.floor(Date.now() / 1000)): Promise<number> {
  let deleted = 0;
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: table.tableName,
        FilterExpression: '#ttl < :now',
        ExpressionAttributeNames: { '#ttl': table.attributeName },
        ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const key = Object.fromEntries(table.keyNames.map((k) => [k, item[k]]));
      await client.send(
        new DeleteItemCommand({
          TableName: table.tableName,
          Key: key,
          // Not if it was renewed meanwhile.
          ConditionExpression: '#ttl < :now',
          ExpressionAttributeNames: { '#ttl': table.attributeName },
          ExpressionAttributeValues: { ':now': { N: String(nowSeconds) } },
        }),
      ).then(
        () => (deleted += 1),
        (error: Error) => {
          if (error.name !== 'ConditionalCheckFailedException') throw error;
        },
      );
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return deleted;
}

/** Sweeps every table every `intervalMs` until stopped. */
export function startTtlSweeper(client: DynamoDBClient, tables: TtlTable[], log: (line: string) => void, intervalMs = TTL_SWEEP_MS): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const sweep = async () => {
    for (const table of tables) {
      try {
        const n = await sweepExpired(client, table);
        if (n) log(`TTL: removed ${n} expired item(s) from ${table.tableName}`);
      } catch (error) {
        log(`TTL sweep of ${table.tableName} failed: ${(error as Error).message}`);
      }
    }
  };
  const timer = setInterval(() => {
    running ??= sweep().finally(() => (running = undefined));
  }, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
