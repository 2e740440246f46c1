import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { AlertRules, PersonProfile, PhotoRecord } from '../domain/model';
import type { Rejection } from '../domain/photo-rejection';
import { peopleKeys, tables } from '../tables';
import { decodeCursor, encodeCursor, isStringKey } from './cursor';

/** A photo under faces/ that belongs to no person (faces/x.jpg, faces/a/b/c.jpg): kept so the API can show it. */
export interface UnfiledPhoto {
  photoKey: string;
  etag?: string;
  sequencer?: string;
  rejection: Rejection;
  recordedAt: string;
}

export interface PersonWithPhotos {
  profile?: PersonProfile;
  photos: PhotoRecord[];
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** Optimistic concurrency: write only if the stored item is still the one that was read. */
export type Expected = { absent: true } | { sequencer: string | undefined };

export class ConcurrentChangeError extends Error {
  override readonly name = 'ConcurrentChangeError';
}

export interface PeopleRepository {
  getPhoto(personId: string, photoKey: string): Promise<PhotoRecord | undefined>;
  /** Writes the record if the stored one is still `expected`, else throws ConcurrentChangeError. */
  putPhoto(record: PhotoRecord, expected: Expected): Promise<void>;
  deletePhoto(personId: string, photoKey: string, expected: Expected): Promise<void>;
  /** Creates the profile on a person's first photo; never overwrites rules or the creation time. */
  ensureProfile(personId: string, displayName: string, now: string): Promise<void>;
  getUnfiled(photoKey: string): Promise<UnfiledPhoto | undefined>;
  putUnfiled(photo: UnfiledPhoto): Promise<void>;
  deleteUnfiled(photoKey: string): Promise<void>;
  listUnfiled(limit: number): Promise<UnfiledPhoto[]>;
  getPerson(personId: string): Promise<PersonWithPhotos>;
  listPeople(limit: number, cursor?: string): Promise<Page<PersonProfile>>;
  /** Updates the given rules; undefined when the person does not exist. */
  updateRules(personId: string, rules: Partial<AlertRules>, now: string): Promise<PersonProfile | undefined>;
  /** Deletes every item of the person (profile, photos); answers how many. */
  deletePerson(personId: string): Promise<number>;
}

export const DEFAULT_RULES: AlertRules = { muted: false, watchlist: false };

/** Partition of photos that belong to no person: outside the PERSON# range, so no folder name can reach it. */
const UNFILED_PK = 'UNFILED';
const { partitionKey: PK, sortKey: SK } = tables.people;
const INDEX = tables.people.peopleIndex;
const KEY_ATTRIBUTES = [PK, SK, INDEX.partitionKey, INDEX.sortKey];

export class DynamoPeopleRepository implements PeopleRepository {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getPhoto(personId: string, photoKey: string): Promise<PhotoRecord | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: peopleKeys.photo(personId, photoKey), ConsistentRead: true }),
    );
    return Item ? (strip(Item) as unknown as PhotoRecord) : undefined;
  }

  async putPhoto(record: PhotoRecord, expected: Expected): Promise<void> {
    await this.conditional(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...peopleKeys.photo(record.personId, record.photoKey), ...record },
        ...condition(expected),
      }),
    );
  }

  async deletePhoto(personId: string, photoKey: string, expected: Expected): Promise<void> {
    await this.conditional(
      new DeleteCommand({ TableName: this.tableName, Key: peopleKeys.photo(personId, photoKey), ...condition(expected) }),
    );
  }

  async ensureProfile(personId: string, displayName: string, now: string): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: peopleKeys.person(personId),
        UpdateExpression:
          'SET personId = :id, displayName = if_not_exists(displayName, :name), #rules = if_not_exists(#rules, :rules), ' +
          'createdAt = if_not_exists(createdAt, :now), updatedAt = if_not_exists(updatedAt, :now), #gpk = :gpk, #gsk = :gsk',
        ExpressionAttributeNames: { '#rules': 'rules', '#gpk': INDEX.partitionKey, '#gsk': INDEX.sortKey },
        ExpressionAttributeValues: {
          ':id': personId,
          ':name': displayName,
          ':rules': DEFAULT_RULES,
          ':now': now,
          ...prefixed(peopleKeys.peopleIndex(personId)),
        },
      }),
    );
  }

  async getUnfiled(photoKey: string): Promise<UnfiledPhoto | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: unfiledKey(photoKey), ConsistentRead: true }),
    );
    return Item ? (strip(Item) as unknown as UnfiledPhoto) : undefined;
  }

  async putUnfiled(photo: UnfiledPhoto): Promise<void> {
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...unfiledKey(photo.photoKey), ...photo } }));
  }

  async deleteUnfiled(photoKey: string): Promise<void> {
    await this.documents.send(new DeleteCommand({ TableName: this.tableName, Key: unfiledKey(photoKey) }));
  }

  async listUnfiled(limit: number): Promise<UnfiledPhoto[]> {
    const { Items = [] } = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': PK },
        ExpressionAttributeValues: { ':pk': UNFILED_PK },
        Limit: limit,
      }),
    );
    return Items.map((item) => strip(item) as unknown as UnfiledPhoto);
  }

  async getPerson(personId: string): Promise<PersonWithPhotos> {
    const items = await this.partition(personId);
    const result: PersonWithPhotos = { photos: [] };
    for (const item of items) {
      if (item[SK] === peopleKeys.person(personId).sk) result.profile = strip(item) as unknown as PersonProfile;
      else if (String(item[SK]).startsWith(peopleKeys.photoPrefix)) result.photos.push(strip(item) as unknown as PhotoRecord);
    }
    return result;
  }

  async listPeople(limit: number, cursor?: string): Promise<Page<PersonProfile>> {
    const query = 'people';
    const { Items = [], LastEvaluatedKey } = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: INDEX.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': INDEX.partitionKey },
        ExpressionAttributeValues: { ':pk': peopleKeys.peopleIndex('').gsi1pk },
        Limit: limit,
        ExclusiveStartKey: cursor ? decodeCursor(cursor, query, isStringKey) : undefined,
      }),
    );
    return {
      items: Items.map((item) => strip(item) as unknown as PersonProfile),
      nextCursor: LastEvaluatedKey ? encodeCursor(query, LastEvaluatedKey) : undefined,
    };
  }

  async updateRules(personId: string, rules: Partial<AlertRules>, now: string): Promise<PersonProfile | undefined> {
    const names: Record<string, string> = { '#pk': PK, '#rules': 'rules' };
    const values: Record<string, unknown> = { ':now': now };
    const sets = ['updatedAt = :now'];
    for (const [name, value] of Object.entries(rules)) {
      if (value === undefined) continue;
      names[`#${name}`] = name;
      values[`:${name}`] = value;
      sets.push(`#rules.#${name} = :${name}`);
    }
    try {
      const { Attributes } = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: peopleKeys.person(personId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? (strip(Attributes) as unknown as PersonProfile) : undefined;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return undefined;
      throw error;
    }
  }

  async deletePerson(personId: string): Promise<number> {
    const keys = (await this.partition(personId, true)).map((item) => ({ [PK]: item[PK], [SK]: item[SK] }));
    await batchDelete(this.documents, this.tableName, keys);
    return keys.length;
  }

  private async partition(personId: string, keysOnly = false): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': PK, ...(keysOnly ? { '#sk': SK } : {}) },
          ExpressionAttributeValues: { ':pk': peopleKeys.person(personId).pk },
          ...(keysOnly ? { ProjectionExpression: '#pk, #sk' } : {}),
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  private async conditional(command: PutCommand | DeleteCommand): Promise<void> {
    try {
      await this.documents.send(command as PutCommand);
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') {
        throw new ConcurrentChangeError('The photo record changed while it was being processed');
      }
      throw error;
    }
  }
}

/** BatchWriteItem takes 25 requests at a time and may hand some back (throttling): resend those with backoff. */
export async function batchDelete(
  documents: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Record<string, unknown>[],
): Promise<void> {
  for (let i = 0; i < keys.length; i += 25) {
    let requests = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 0) {
        if (attempt > 8) throw new Error(`DynamoDB kept ${requests.length} deletes unprocessed in ${tableName}`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
      }
      const { UnprocessedItems } = await documents.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
      requests = (UnprocessedItems?.[tableName] ?? []) as typeof requests;
    }
  }
}

function condition(expected: Expected): {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
} {
  if ('absent' in expected) {
    return { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PK } };
  }
  if (expected.sequencer === undefined) {
    return {
      ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#seq)',
      ExpressionAttributeNames: { '#pk': PK, '#seq': 'sequencer' },
    };
  }
  return {
    ConditionExpression: '#seq = :seq',
    ExpressionAttributeNames: { '#seq': 'sequencer' },
    ExpressionAttributeValues: { ':seq': expected.sequencer },
  };
}

const unfiledKey = (photoKey: string) => ({ [PK]: UNFILED_PK, [SK]: `${peopleKeys.photoPrefix}${photoKey}` });

function prefixed(values: Record<string, string>) {
  return { ':gpk': values[INDEX.partitionKey], ':gsk': values[INDEX.sortKey] };
}

/** The item without its table keys: what the rest of the code calls a record. */
function strip(item: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...item };
  for (const key of KEY_ATTRIBUTES) delete copy[key];
  return copy;
}
