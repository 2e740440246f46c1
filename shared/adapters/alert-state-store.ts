import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed } from './dynamodb';
import type { AlertClaim, ClaimOutcome } from '../domain/alert-policy';
import { alertStateKey, type AlertState } from '../domain/model';
import { tables } from '../tables';
import type { AlertStateStore } from '../use-cases/record-sightings';

/** Alert state outlives the longest sensible cooldown, then DynamoDB's TTL removes it. */
const STATE_TTL_SECONDS = 7 * 86_400;

export class DynamoAlertStateStore implements AlertStateStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(claim: AlertClaim): Promise<ClaimOutcome> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [tables.alertState.partitionKey]: alertStateKey(claim.personId, claim.camera) },
          UpdateExpression: 'SET personId = :person, camera = :camera, lastAlertAt = :at, sightingId = :sighting, #status = :pending, #ttl = :ttl REMOVE messageId',
          // Mirrors evaluateClaim: no state yet; another sighting whose window has closed; or this sighting, still pending.
          ConditionExpression:
            'attribute_not_exists(#key) OR (sightingId <> :sighting AND lastAlertAt <= :windowStart) OR (sightingId = :sighting AND #status = :pending)',
          ExpressionAttributeNames: { '#key': tables.alertState.partitionKey, '#status': 'status', '#ttl': tables.alertState.ttlAttribute },
          ExpressionAttributeValues: {
            ':person': claim.personId,
            ':camera': claim.camera,
            ':at': claim.frameTimeMs,
            ':sighting': claim.sightingId,
            ':pending': 'pending',
            ':windowStart': claim.frameTimeMs - claim.cooldownMs,
            ':ttl': Math.floor(claim.frameTimeMs / 1000) + STATE_TTL_SECONDS,
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return (Attributes as AlertState | undefined)?.sightingId === claim.sightingId ? 'resumed' : 'claimed';
    } catch (error) {
      if (isConditionalCheckFailed(error)) return 'suppressed';
      throw error;
    }
  }

  async markSending(claim: AlertClaim): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [tables.alertState.partitionKey]: alertStateKey(claim.personId, claim.camera) },
          UpdateExpression: 'SET #status = :sending',
          ConditionExpression: 'sightingId = :sighting AND #status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':sending': 'sending', ':pending': 'pending', ':sighting': claim.sightingId },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async releaseSending(claim: AlertClaim): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [tables.alertState.partitionKey]: alertStateKey(claim.personId, claim.camera) },
          UpdateExpression: 'SET #status = :pending',
          ConditionExpression: 'sightingId = :sighting AND #status = :sending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':sending': 'sending', ':pending': 'pending', ':sighting': claim.sightingId },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) return;
      throw error;
    }
  }

  async markSent(claim: AlertClaim, messageId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [tables.alertState.partitionKey]: alertStateKey(claim.personId, claim.camera) },
          UpdateExpression: 'SET #status = :sent, messageId = :messageId',
          ConditionExpression: 'sightingId = :sighting',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':sent': 'sent', ':messageId': messageId, ':sighting': claim.sightingId },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) return;
      throw error;
    }
  }
}
