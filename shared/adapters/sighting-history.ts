import { DeleteCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { alertStateKey, type Sighting } from '../domain/model';
import { tables, UNKNOWN_PERSON } from '../tables';
import type { Page } from '../domain/page';
import { Semaphore } from '../concurrency';
import type { SightingEraser } from '../use-cases/people';
import type { SightingHistory, SightingQuery } from '../use-cases/sightings';
import type { VisitorSightings } from '../use-cases/visitors';
import { decodeCursor, encodeCursor, isStringKey } from './cursor';
import { batchDelete, isConditionalCheckFailed } from './dynamodb';

const S = tables.sightings;
const SORT = S.byPersonIndex.sortKey;
/** Bounds the work of one request: a sparse range answers a short page and a cursor rather than timing out. */
const MAX_QUERIES_PER_PAGE = 40;
/** UpdateItem calls in flight when a named visitor's sightings move to the person. */
const MOVE_CONCURRENCY = 16;

interface Position {
  /** byDay only: the day being read. */
  day?: string;
  key?: Record<string, string>;
}

const isPosition = (p: unknown): p is Position => {
  if (typeof p !== 'object' || p === null) return false;
  const { day, key } = p as Position;
  return (day === undefined || /^\d{4}-\d{2}-\d{2}$/.test(day)) && (key === undefined || isStringKey(key)) && (day !== undefined || key !== undefined);
};

/** Reads and erases what the consumer wrote: sightings and alert state (the API's view of them). */
export class DynamoSightingHistory implements SightingHistory, SightingEraser, VisitorSightings {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly sightingsTable: string,
    /** Only the eraser needs it (and only it may write there). */
    private readonly alertStateTable?: string,
  ) {}

  async query(q: SightingQuery): Promise<Page<Sighting>> {
    const fingerprint = q.fingerprint ?? JSON.stringify([q.personId ?? null, q.camera ?? null, q.since, q.until, ...(q.visitorId ? [q.visitorId] : [])]);
    const start = q.cursor ? decodeCursor(q.cursor, fingerprint, isPosition) : undefined;
    // The most selective index for the filters given; a camera (or person) filter on top is a filter expression.
    const index = q.visitorId ? S.byVisitorIndex : q.personId ? S.byPersonIndex : q.camera ? S.byCameraIndex : S.byDayIndex;
    const byDay = index === S.byDayIndex;
    const firstDay = q.since.slice(0, 10);
    let day = byDay ? (start?.day ?? q.until.slice(0, 10)) : undefined;
    let key = start?.key;
    const items: Sighting[] = [];

    for (let queries = 0; queries < MAX_QUERIES_PER_PAGE; queries++) {
      const partition = q.visitorId ?? q.personId ?? q.camera ?? day!;
      const filterCamera = Boolean((q.personId || q.visitorId) && q.camera);
      const filterPerson = Boolean(q.visitorId && q.personId);
      const filters = [...(filterCamera ? ['#camera = :camera'] : []), ...(filterPerson ? ['#person = :person'] : [])];
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.sightingsTable,
          IndexName: index.name,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :since AND :until',
          ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
          ExpressionAttributeNames: {
            '#pk': index.partitionKey,
            '#sk': SORT,
            ...(filterCamera ? { '#camera': 'camera' } : {}),
            ...(filterPerson ? { '#person': S.byPersonIndex.partitionKey } : {}),
          },
          ExpressionAttributeValues: {
            ':pk': partition,
            ':since': q.since,
            ':until': q.until,
            ...(filterCamera ? { ':camera': q.camera } : {}),
            ...(filterPerson ? { ':person': q.personId } : {}),
          },
          ScanIndexForward: false,
          Limit: q.limit - items.length,
          ExclusiveStartKey: key,
        }),
      );
      items.push(...((page.Items ?? []) as Sighting[]));
      key = page.LastEvaluatedKey as Record<string, string> | undefined;
      if (!key) {
        // This partition is done: byDay moves on to the previous day, the other indexes are finished.
        day = byDay ? previousDay(day!) : undefined;
        if (!day || day < firstDay) return { items };
      }
      if (items.length >= q.limit) break;
    }
    return { items, nextCursor: encodeCursor(fingerprint, { day, key } satisfies Position) };
  }

  async deleteByPerson(personId: string): Promise<number> {
    const keys: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.sightingsTable,
          IndexName: S.byPersonIndex.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': S.byPersonIndex.partitionKey, '#id': S.partitionKey },
          ExpressionAttributeValues: { ':pk': personId },
          ProjectionExpression: '#id',
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) keys.push({ [S.partitionKey]: item[S.partitionKey] });
      start = page.LastEvaluatedKey;
    } while (start);
    await batchDelete(this.documents, this.sightingsTable, keys);
    return keys.length;
  }

  async ofVisitor(visitorId: string): Promise<{ sightingId: string; camera: string; snapshotKey?: string }[]> {
    const found: { sightingId: string; camera: string; snapshotKey?: string }[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.sightingsTable,
          IndexName: S.byVisitorIndex.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': S.byVisitorIndex.partitionKey, '#id': S.partitionKey, '#camera': 'camera', '#snapshot': 'snapshotKey' },
          ExpressionAttributeValues: { ':pk': visitorId },
          ProjectionExpression: '#id, #camera, #snapshot',
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        found.push({ sightingId: String(item[S.partitionKey]), camera: String(item.camera), ...(typeof item.snapshotKey === 'string' ? { snapshotKey: item.snapshotKey } : {}) });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return found;
  }

  async moveToPerson(sightingIds: readonly string[], visitorId: string, personId: string): Promise<number> {
    const slots = new Semaphore(MOVE_CONCURRENCY);
    const moved = await Promise.all(
      sightingIds.map(async (id) => {
        await slots.acquire();
        try {
          await this.documents.send(
            new UpdateCommand({
              TableName: this.sightingsTable,
              Key: { [S.partitionKey]: id },
              UpdateExpression: 'SET #person = :person REMOVE #visitor',
              // Still an unknown face of this visitor: a repeated move (or one racing another) changes nothing.
              ConditionExpression: '#visitor = :visitor AND #person = :unknown',
              ExpressionAttributeNames: { '#person': S.byPersonIndex.partitionKey, '#visitor': S.byVisitorIndex.partitionKey },
              ExpressionAttributeValues: { ':person': personId, ':visitor': visitorId, ':unknown': UNKNOWN_PERSON },
            }),
          );
          return 1;
        } catch (error) {
          if (isConditionalCheckFailed(error)) return 0;
          throw error;
        } finally {
          slots.release();
        }
      }),
    );
    return moved.reduce<number>((n, m) => n + m, 0);
  }

  async deleteSightings(sightingIds: readonly string[]): Promise<number> {
    await batchDelete(this.documents, this.sightingsTable, sightingIds.map((id) => ({ [S.partitionKey]: id })));
    return sightingIds.length;
  }

  async deleteAlertStates(personId: string, cameras: readonly string[]): Promise<number> {
    if (!this.alertStateTable) throw new Error('DynamoSightingHistory was built without the alert-state table');
    let deleted = 0;
    for (const camera of cameras) {
      const { Attributes } = await this.documents.send(
        new DeleteCommand({
          TableName: this.alertStateTable,
          Key: { [tables.alertState.partitionKey]: alertStateKey(personId, camera) },
          ReturnValues: 'ALL_OLD',
        }),
      );
      if (Attributes) deleted++;
    }
    return deleted;
  }
}

function previousDay(day: string): string {
  const date = new Date(`${day}T00:00:00.000Z`);
  date.setUTCDate(date.getUTCDate() - 1);
  return date.toISOString().slice(0, 10);
}
