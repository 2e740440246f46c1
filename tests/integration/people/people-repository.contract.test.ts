/**
 * One behaviour for the people repository: the same cases run against DynamoPeopleRepository (dynalite, the table
 * from resources/tables.yml) and the in-memory fake the use-case tests rely on, so the fake cannot drift from it.
 */
import { DynamoPeopleRepository } from '../../../shared/adapters/people-repository';
import { ConcurrentChangeError } from '../../../shared/domain/concurrency';
import type { PhotoRecord, UnfiledPhoto } from '../../../shared/domain/model';
import type { PhotoRecords } from '../../../shared/use-cases/index-photo';
import type { PeopleDirectory } from '../../../shared/use-cases/people';
import { createTables, startLocalAws, type LocalAws } from '../../support/local-aws';
import { InMemoryPeople } from '../../support/people-fakes';

let aws: LocalAws;
let peopleTable: string;

beforeAll(async () => {
  aws = await startLocalAws({ dynamodb: true });
  peopleTable = (await createTables(aws.dynamodb, 'contract')).PeopleTable;
});
afterAll(() => aws.stop());

/** Both ports the people table serves (the indexer's and the API's), plus the unfiled-photo lookup the cases check. */
type PeopleTable = PhotoRecords & PeopleDirectory & { getUnfiled(photoKey: string): Promise<UnfiledPhoto | undefined> };

const implementations: [string, () => PeopleTable][] = [
  ['DynamoPeopleRepository', () => new DynamoPeopleRepository(aws.documents, peopleTable)],
  ['InMemoryPeople', () => new InMemoryPeople()],
];

/** Person ids never repeat across cases: the DynamoDB table is shared by the whole file. */
let serial = 0;
const newPerson = () => `person-${++serial}-${Date.now().toString(36)}`;

function photo(personId: string, photoKey: string, sequencer?: string): PhotoRecord {
  return { personId, photoKey, sequencer, status: 'indexed', faces: [], indexedAt: '2026-12-01T10:00:00.000Z' };
}

describe.each(implementations)('people repository contract: %s', (_name, create) => {
  let people: PeopleTable;
  beforeEach(() => (people = create()));

  it('given no photo record, when one is put expecting none, then it reads back; a second put expecting none is a concurrent change', async () => {
    // Given a person with no photo record
    const personId = newPerson();

    // When a record is put expecting none
    await people.putPhoto(photo(personId, 'faces/a/1.jpg', '001'), { absent: true });

    // Then it reads back, and another put expecting none is refused
    expect(await people.getPhoto(personId, 'faces/a/1.jpg')).toEqual(photo(personId, 'faces/a/1.jpg', '001'));
    await expect(people.putPhoto(photo(personId, 'faces/a/1.jpg', '002'), { absent: true })).rejects.toBeInstanceOf(ConcurrentChangeError);
    expect((await people.getPhoto(personId, 'faces/a/1.jpg'))?.sequencer).toBe('001');
  });

  it('given a stored record, when written or deleted expecting another sequencer, then nothing changes; expecting its own, the write lands', async () => {
    // Given a record stored with sequencer 001
    const personId = newPerson();
    await people.putPhoto(photo(personId, 'faces/a/1.jpg', '001'), { absent: true });

    // When written expecting 000, expecting no sequencer, and deleted expecting 000
    await expect(people.putPhoto(photo(personId, 'faces/a/1.jpg', '003'), { sequencer: '000' })).rejects.toBeInstanceOf(ConcurrentChangeError);
    await expect(people.putPhoto(photo(personId, 'faces/a/1.jpg', '003'), { sequencer: undefined })).rejects.toBeInstanceOf(ConcurrentChangeError);
    await expect(people.deletePhoto(personId, 'faces/a/1.jpg', { sequencer: '000' })).rejects.toBeInstanceOf(ConcurrentChangeError);

    // Then the record is untouched; expecting 001 the write lands, and expecting the new one the delete does
    expect((await people.getPhoto(personId, 'faces/a/1.jpg'))?.sequencer).toBe('001');
    await people.putPhoto(photo(personId, 'faces/a/1.jpg', '002'), { sequencer: '001' });
    expect((await people.getPhoto(personId, 'faces/a/1.jpg'))?.sequencer).toBe('002');
    await people.deletePhoto(personId, 'faces/a/1.jpg', { sequencer: '002' });
    expect(await people.getPhoto(personId, 'faces/a/1.jpg')).toBeUndefined();
  });

  it('given a profile, when ensured again with another name, then its name, rules and creation time stay', async () => {
    // Given a profile created on a first photo, with its rules changed since
    const personId = newPerson();
    await people.ensureProfile(personId, 'José María', '2026-12-01T10:00:00.000Z');
    await people.updateRules(personId, { muted: true }, '2026-12-01T11:00:00.000Z');

    // When ensured again (a later photo) under another name
    await people.ensureProfile(personId, 'Jose', '2026-12-02T10:00:00.000Z');

    // Then the first name, the changed rules and the creation time are kept
    const { profile } = await people.getPerson(personId);
    expect(profile).toMatchObject({ personId, displayName: 'José María', rules: { muted: true, watchlist: false }, createdAt: '2026-12-01T10:00:00.000Z' });
  });

  it('given a person, when rules are updated with one of them undefined, then only the given rule changes; an unknown person gives undefined', async () => {
    // Given a person with the default rules
    const personId = newPerson();
    await people.ensureProfile(personId, 'Ada', '2026-12-01T10:00:00.000Z');

    // When the watchlist is set and muted is passed as undefined
    const updated = await people.updateRules(personId, { watchlist: true, muted: undefined }, '2026-12-03T10:00:00.000Z');

    // Then only the watchlist changed, with the update time; nobody is created for an unknown id
    expect(updated).toMatchObject({ personId, rules: { muted: false, watchlist: true }, updatedAt: '2026-12-03T10:00:00.000Z' });
    const unknown = newPerson();
    expect(await people.updateRules(unknown, { muted: true }, '2026-12-03T10:00:00.000Z')).toBeUndefined();
    expect((await people.getPerson(unknown)).profile).toBeUndefined();
  });

  it("given two people with photos, when one is read and then deleted, then only that person's profile and photos are returned and counted", async () => {
    // Given two people, the first with two photos, the second with one
    const [first, second] = [newPerson(), newPerson()];
    await people.ensureProfile(first, 'First', '2026-12-01T10:00:00.000Z');
    await people.ensureProfile(second, 'Second', '2026-12-01T10:00:00.000Z');
    await people.putPhoto(photo(first, 'faces/first/1.jpg'), { absent: true });
    await people.putPhoto(photo(first, 'faces/first/2.jpg'), { absent: true });
    await people.putPhoto(photo(second, 'faces/second/1.jpg'), { absent: true });

    // When the first is read, then deleted
    const read = await people.getPerson(first);
    const deleted = await people.deletePerson(first);

    // Then the read held only their own items, the delete counted profile + 2 photos, and the second person is whole
    expect(read.profile?.displayName).toBe('First');
    expect(read.photos.map((p) => p.photoKey).sort()).toEqual(['faces/first/1.jpg', 'faces/first/2.jpg']);
    expect(deleted).toBe(3);
    expect(await people.getPerson(first)).toEqual({ profile: undefined, photos: [] });
    expect((await people.getPerson(second)).photos).toHaveLength(1);
    expect(await people.deletePerson(newPerson())).toBe(0);
  });

  it('given more people than a page, when listed page by page with the cursor, then every person comes exactly once', async () => {
    // Given five people (plus whatever earlier cases left in a shared table)
    const ids = Array.from({ length: 5 }, newPerson);
    for (const id of ids) await people.ensureProfile(id, id.toUpperCase(), '2026-12-01T10:00:00.000Z');

    // When listed two at a time until there is no cursor
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await people.listPeople(2, cursor);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((p) => p.personId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 100);

    // Then each of the five appears once, with its profile
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(ids));
    const { items } = await people.listPeople(100);
    expect(items.find((p) => p.personId === ids[0])).toMatchObject({ displayName: ids[0].toUpperCase(), rules: { muted: false, watchlist: false } });
  });

  it('given photos that belong to nobody, when recorded, listed and deleted, then they come back until deleted, within the limit', async () => {
    // Given two unfiled photos
    const tag = newPerson();
    const unfiled = (n: number): UnfiledPhoto => ({
      photoKey: `faces/${tag}-${n}.jpg`,
      rejection: { reason: 'OUTSIDE_LAYOUT', message: 'Put the photo in a person folder: faces/<person>/<photo>.jpg' },
      recordedAt: '2026-12-01T10:00:00.000Z',
    });
    await people.putUnfiled(unfiled(1));
    await people.putUnfiled(unfiled(2));

    // When read, listed with a limit of 1, and one deleted
    const one = await people.getUnfiled(unfiled(1).photoKey);
    const limited = await people.listUnfiled(1);
    await people.deleteUnfiled(unfiled(1).photoKey);

    // Then it read back whole, the list kept to its limit, and the deleted one is gone while the other stays
    expect(one).toEqual(unfiled(1));
    expect(limited).toHaveLength(1);
    expect(await people.getUnfiled(unfiled(1).photoKey)).toBeUndefined();
    const all = (await people.listUnfiled(1000)).map((u) => u.photoKey);
    expect(all).toContain(unfiled(2).photoKey);
    expect(all).not.toContain(unfiled(1).photoKey);
  });
});
