import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Sighting } from '../domain/model';
import { tables } from '../tables';
import type { SightingRecords } from '../use-cases/sighting-review';
import { isConditionalCheckFailed } from './dynamodb';

const KEY = tables.sightings.partitionKey;

/** One sighting by its id, and the operator's reassignment of it (a conditional update: the last reader wins nothing). */
export class DynamoSightingRecords implements SightingRecords {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(sightingId: string): Promise<Sighting | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { [KEY]: sightingId } }));
    return Item as Sighting | undefined;
  }

  async reassign(sightingId: string, from: string, to: string, note: Pick<Sighting, 'correctedFrom' | 'identified' | 'correctedAt'>): Promise<boolean> {
    // Every attribute by a placeholder: several of these names are DynamoDB reserved words.
    const names: Record<string, string> = { '#id': KEY, '#person': 'personId', '#at': 'correctedAt', '#sim': 'similarity', '#face': 'matchedFaceId', '#ext': 'externalImageId' };
    const set = ['#person = :to', '#at = :at'];
    const values: Record<string, unknown> = { ':to': to, ':from': from, ':at': note.correctedAt };
    if (note.correctedFrom) {
      names['#was'] = 'correctedFrom';
      set.push('#was = :was');
      values[':was'] = note.correctedFrom;
    }
    if (note.identified) {
      names['#named'] = 'identified';
      set.push('#named = :yes');
      values[':yes'] = true;
    }
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [KEY]: sightingId },
          // The old match's figures describe a match that no longer stands.
          UpdateExpression: `SET ${set.join(', ')} REMOVE #sim, #face, #ext`,
          ConditionExpression: 'attribute_exists(#id) AND #person = :from',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
