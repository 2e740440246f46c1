/** AWS::DynamoDB::Table: the table with its keys, indexes and stream (unless kept from an earlier start); its TTL for the sweeper. */
import { CreateTableCommand, DescribeTableCommand, waitUntilTableExists, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Provisioner } from './provisioner';

export const provisionTable: Provisioner = async ({ props, attrs }, { clients, found }) => {
  if (!(await tableExists(clients.dynamodb, attrs.ref))) {
    await clients.dynamodb.send(new CreateTableCommand(createTableInput(attrs.ref, props)));
    await waitUntilTableExists({ client: clients.dynamodb, maxWaitTime: 30, minDelay: 1 }, { TableName: attrs.ref });
  }
  const ttl = props.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
  if (ttl?.Enabled && ttl.AttributeName) {
    found.ttlTables.push({ tableName: attrs.ref, attributeName: ttl.AttributeName, keyNames: (props.KeySchema as { AttributeName: string }[]).map((k) => k.AttributeName) });
  }
};

const tableExists = (client: DynamoDBClient, tableName: string) =>
  client.send(new DescribeTableCommand({ TableName: tableName })).then(
    () => true,
    (e) => {
      if ((e as Error).name === 'ResourceNotFoundException') return false;
      throw e;
    },
  );

/** The template's table as CreateTable's input (provisioned throughput defaults to 5/5, as CloudFormation's). */
function createTableInput(tableName: string, props: Record<string, unknown>): CreateTableCommandInput {
  const input: CreateTableCommandInput = {
    TableName: tableName,
    AttributeDefinitions: props.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
    KeySchema: props.KeySchema as CreateTableCommandInput['KeySchema'],
    BillingMode: (props.BillingMode as CreateTableCommandInput['BillingMode']) ?? 'PROVISIONED',
  };
  const provisioned = input.BillingMode === 'PROVISIONED';
  const throughput = (p: unknown) => (provisioned ? ((p as CreateTableCommandInput['ProvisionedThroughput']) ?? { ReadCapacityUnits: 5, WriteCapacityUnits: 5 }) : undefined);
  if (provisioned) input.ProvisionedThroughput = throughput(props.ProvisionedThroughput);
  const indexes = (list: unknown) =>
    (list as Record<string, unknown>[] | undefined)?.map((index) => ({
      IndexName: index.IndexName as string,
      KeySchema: index.KeySchema as CreateTableCommandInput['KeySchema'],
      Projection: index.Projection as object,
      ...(provisioned ? { ProvisionedThroughput: throughput(index.ProvisionedThroughput) } : {}),
    }));
  if (props.GlobalSecondaryIndexes) input.GlobalSecondaryIndexes = indexes(props.GlobalSecondaryIndexes);
  if (props.LocalSecondaryIndexes) input.LocalSecondaryIndexes = indexes(props.LocalSecondaryIndexes)?.map(({ IndexName, KeySchema, Projection }) => ({ IndexName, KeySchema, Projection }));
  if (props.StreamSpecification) input.StreamSpecification = { StreamEnabled: true, ...(props.StreamSpecification as object) };
  return input;
}
