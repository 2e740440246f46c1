import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { ConcurrentChangeError, type Expected } from '../domain/concurrency';
import { DEFAULT_RULES, type AlertRules, type PersonProfile, type PhotoRecord, type UnfiledPhoto } from '../domain/model';
import type { Page } from '../domain/page';
import { peopleKeys, tables } from '../tables';
import type { PhotoRecords } from '../use-cases/index-photo';
import type { PeopleDirectory, PersonWithPhotos } from '../use-cases/people';
import type { NamedVisitorPeople } from '../use-cases/visitors';
import { decodeCursor, encodeCursor, isStringKey } from './cursor';
import { batchDelete, isConditionalCheckFailed } from './dynamodb';

/** Partition of photos that belong to no person: outside the PERSON# range, so no folder name can reach it. */
const UNFILED_PK = 'UNFILED';
const { partitionKey: PK, sortKey: SK } = tables.people;
const INDEX = tables.people.peopleIndex;
const KEY_ATTRIBUTES = [PK, SK, INDEX.partitionKey, INDEX.sortKey];

/** The people table: the indexer's photo records and the API's directory of people, in one partition per person. */
export class DynamoPeopleRepository implements PhotoRecords, PeopleDirectory, NamedVisitorPeople {
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
      else if (String(item[SK]).startsWith(peopleKeys.namedVisitorPrefix)) (result.namedVisitors ??= []).push(String(item[SK]).slice(peopleKeys.namedVisitorPrefix.length));
    }
    return result;
  }

  /** A mark in the person's partition: erasing the person also erases what is left of the visitor. */
  async rememberNamedVisitor(personId: string, visitorId: string, at: string): Promise<void> {
    await this.documents.send(
      new PutCommand({ TableName: this.tableName, Item: { ...peopleKeys.namedVisitor(personId, visitorId), personId, visitorId, namedAt: at } }),
    );
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
      if (isConditionalCheckFailed(error)) return undefined;
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
      if (isConditionalCheckFailed(error)) {
        throw new ConcurrentChangeError('The photo record changed while it was being processed');
      }
      throw error;
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
