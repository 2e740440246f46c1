import { DeleteCommand, GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Page } from '../domain/page';
import type { VisitorRecord } from '../domain/visitor';
import { tables, VISITOR_KIND } from '../tables';
import type { VisitorLog } from '../use-cases/record-sightings';
import type { StaleVisitors, VisitorDirectory } from '../use-cases/visitors';
import { decodeCursor, encodeCursor, isStringKey } from './cursor';
import { isConditionalCheckFailed } from './dynamodb';

const V = tables.visitors;
const INDEX = V.byLastSeenIndex;

/**
 * The visitors table: the consumer's conditional updates (one item per visitor, never read before writing) and the
 * API's listing, reading and removal of visitors.
 */
export class DynamoVisitors implements VisitorLog, VisitorDirectory, StaleVisitors {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async startVisit(visit: { visitorId: string; seenAt: string; camera: string; gapSeconds: number; faceId?: string }): Promise<'counted' | 'same-visit'> {
    const gapStart = new Date(Date.parse(visit.seenAt) - visit.gapSeconds * 1000).toISOString();
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [V.partitionKey]: visit.visitorId },
          UpdateExpression:
            'SET #kind = :kind, firstSeenAt = if_not_exists(firstSeenAt, :seenAt), lastSeenAt = :seenAt, lastSeenCamera = :camera ADD visits :one' +
            (visit.faceId ? ', faceIds :faces' : ''),
          // A new visitor, or one not seen since before the gap: a continued visit or a redelivery counts nothing.
          ConditionExpression: 'attribute_not_exists(lastSeenAt) OR lastSeenAt < :gapStart',
          ExpressionAttributeNames: { '#kind': INDEX.partitionKey },
          ExpressionAttributeValues: {
            ':kind': VISITOR_KIND,
            ':seenAt': visit.seenAt,
            ':camera': visit.camera,
            ':one': 1,
            ':gapStart': gapStart,
            ...(visit.faceId ? { ':faces': new Set([visit.faceId]) } : {}),
          },
        }),
      );
      return 'counted';
    } catch (error) {
      if (isConditionalCheckFailed(error)) return 'same-visit';
      throw error;
    }
  }

  async seen(visitorId: string, seenAt: string, camera: string): Promise<void> {
    await this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [V.partitionKey]: visitorId },
        UpdateExpression: 'SET lastSeenAt = :seenAt, lastSeenCamera = :camera',
        // Never creates a visitor (one named or erased stays gone) and never moves back in time.
        ConditionExpression: 'attribute_exists(#id) AND lastSeenAt < :seenAt',
        ExpressionAttributeNames: { '#id': V.partitionKey },
        ExpressionAttributeValues: { ':seenAt': seenAt, ':camera': camera },
      }),
    );
  }

  async offerSnapshot(visitorId: string, snapshotKey: string, score: number): Promise<void> {
    await this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [V.partitionKey]: visitorId },
        UpdateExpression: 'SET bestSnapshotKey = :key, bestScore = :score',
        ConditionExpression: 'attribute_exists(#id) AND (attribute_not_exists(bestScore) OR bestScore < :score)',
        ExpressionAttributeNames: { '#id': V.partitionKey },
        ExpressionAttributeValues: { ':key': snapshotKey, ':score': score },
      }),
    );
  }

  async list(limit: number, cursor?: string): Promise<Page<VisitorRecord>> {
    const scope = 'visitors';
    const { Items = [], LastEvaluatedKey } = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: INDEX.name,
        KeyConditionExpression: '#kind = :kind',
        ExpressionAttributeNames: { '#kind': INDEX.partitionKey },
        ExpressionAttributeValues: { ':kind': VISITOR_KIND },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: cursor ? decodeCursor(cursor, scope, isStringKey) : undefined,
      }),
    );
    return { items: Items.map(toRecord), nextCursor: LastEvaluatedKey ? encodeCursor(scope, LastEvaluatedKey) : undefined };
  }

  async lastSeenBefore(cutoff: string, limit: number): Promise<VisitorRecord[]> {
    const { Items = [] } = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: INDEX.name,
        KeyConditionExpression: '#kind = :kind AND #seen < :cutoff',
        ExpressionAttributeNames: { '#kind': INDEX.partitionKey, '#seen': INDEX.sortKey },
        ExpressionAttributeValues: { ':kind': VISITOR_KIND, ':cutoff': cutoff },
        ScanIndexForward: true,
        Limit: limit,
      }),
    );
    return Items.map(toRecord);
  }

  async get(visitorId: string): Promise<VisitorRecord | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { [V.partitionKey]: visitorId }, ConsistentRead: true }));
    return Item ? toRecord(Item) : undefined;
  }

  async delete(visitorId: string): Promise<boolean> {
    const { Attributes } = await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: { [V.partitionKey]: visitorId }, ReturnValues: 'ALL_OLD' }));
    return Attributes !== undefined;
  }

  private async conditionally(command: UpdateCommand): Promise<void> {
    try {
      await this.documents.send(command);
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }
}

function toRecord(item: Record<string, unknown>): VisitorRecord {
  const faceIds = item.faceIds instanceof Set ? [...(item.faceIds as Set<string>)] : Array.isArray(item.faceIds) ? (item.faceIds as string[]) : [];
  return {
    visitorId: String(item[V.partitionKey]),
    visits: Number(item.visits ?? 0),
    firstSeenAt: String(item.firstSeenAt ?? item.lastSeenAt ?? ''),
    lastSeenAt: String(item.lastSeenAt ?? ''),
    lastSeenCamera: String(item.lastSeenCamera ?? ''),
    faceIds: faceIds.sort(),
    ...(typeof item.bestSnapshotKey === 'string' ? { bestSnapshotKey: item.bestSnapshotKey } : {}),
    ...(typeof item.bestScore === 'number' ? { bestScore: item.bestScore } : {}),
  };
}
