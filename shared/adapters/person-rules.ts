import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './dynamodb';
import type { AlertRules } from '../domain/model';
import { peopleKeys, tables } from '../tables';
import type { PersonAlertProfile, PersonRules } from '../use-cases/record-sightings';

export class DynamoPersonRules implements PersonRules {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(personId: string): Promise<PersonAlertProfile | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: peopleKeys.person(personId),
        ProjectionExpression: '#name, #rules',
        ExpressionAttributeNames: { '#name': 'displayName', '#rules': 'rules' },
      }),
    );
    if (!Item) return undefined;
    const rules = (Item.rules ?? {}) as Partial<AlertRules>;
    return {
      displayName: typeof Item.displayName === 'string' && Item.displayName ? Item.displayName : personId,
      // A profile written before rules existed alerts by default.
      rules: { muted: rules.muted === true, watchlist: rules.watchlist === true },
    };
  }

  async recordLastSeen(personId: string, seenAt: string, camera: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: peopleKeys.person(personId),
          UpdateExpression: 'SET lastSeenAt = :seenAt, lastSeenCamera = :camera',
          // Never creates a profile (an erased person stays erased) and never moves back in time (ISO strings sort by time).
          ConditionExpression: 'attribute_exists(#pk) AND (attribute_not_exists(lastSeenAt) OR lastSeenAt < :seenAt)',
          ExpressionAttributeNames: { '#pk': tables.people.partitionKey },
          ExpressionAttributeValues: { ':seenAt': seenAt, ':camera': camera },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) return;
      throw error;
    }
  }
}
