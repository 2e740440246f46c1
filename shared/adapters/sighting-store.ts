import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tables } from '../tables';
import type { Sighting } from '../domain/model';

/** The sightings table, as the consumer writes it. */
export interface SightingStore {
  /** Writes the sighting unless one with its id exists: 'exists' means a redelivery, nothing was written. */
  putIfAbsent(sighting: Sighting): Promise<'created' | 'exists'>;
}

export class DynamoSightingStore implements SightingStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putIfAbsent(sighting: Sighting): Promise<'created' | 'exists'> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: sighting,
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': tables.sightings.partitionKey },
        }),
      );
      return 'created';
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return 'exists';
      throw error;
    }
  }
}
