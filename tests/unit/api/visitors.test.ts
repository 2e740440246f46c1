/** The API's visitor use cases over in-memory ports: list, read, name (as a new or existing person), erase. */
import { snapshotKeyOf } from '../../../shared/domain/snapshot-key';
import type { Sighting } from '../../../shared/domain/model';
import type { VisitorRecord } from '../../../shared/domain/visitor';
import { ConflictError, NotFoundError, ValidationError } from '../../../shared/errors';
import { erasePerson, type ErasePorts } from '../../../shared/use-cases/people';
import { eraseVisitor, expireVisitors, getVisitor, listVisitors, nameVisitor, type NamePorts, type VisitorDirectory, type VisitorErasePorts, type VisitorSightings } from '../../../shared/use-cases/visitors';
import { FakeFaceCollection, FakePhotoStore, FakeSightingHistory, InMemoryPeople, fakeFace, sighting } from '../../support/people-fakes';

const VISITOR = 'v-00000000000000a1';

class InMemoryVisitors implements VisitorDirectory {
  readonly items = new Map<string, VisitorRecord>();
  async list(limit: number, cursor?: string) {
    const all = [...this.items.values()].sort((a, b) => b.lastSeenAt.localeCompare(a.lastSeenAt));
    const start = cursor ? Number(cursor) : 0;
    return { items: all.slice(start, start + limit), nextCursor: start + limit < all.length ? String(start + limit) : undefined };
  }
  async get(visitorId: string) {
    return this.items.get(visitorId);
  }
  async delete(visitorId: string) {
    return this.items.delete(visitorId);
  }
  async lastSeenBefore(cutoff: string, limit: number) {
    return [...this.items.values()].filter((v) => v.lastSeenAt < cutoff).sort((a, b) => a.lastSeenAt.localeCompare(b.lastSeenAt)).slice(0, limit);
  }
}

/** The sightings table seen through the byVisitor index. */
class VisitorSightingsOf implements VisitorSightings {
  constructor(readonly history: FakeSightingHistory) {}
  async ofVisitor(visitorId: string) {
    return this.history.sightings.filter((s) => s.visitorId === visitorId).map((s) => ({ sightingId: s.sightingId, camera: s.camera, ...(s.snapshotKey ? { snapshotKey: s.snapshotKey } : {}) }));
  }
  async moveToPerson(ids: readonly string[], visitorId: string, personId: string) {
    let moved = 0;
    for (const s of this.history.sightings) {
      if (!ids.includes(s.sightingId) || s.visitorId !== visitorId || s.personId !== 'UNKNOWN') continue;
      s.personId = personId;
      delete s.visitorId;
      moved++;
    }
    return moved;
  }
  async deleteSightings(ids: readonly string[]) {
    const before = this.history.sightings.length;
    this.history.sightings = this.history.sightings.filter((s) => !ids.includes(s.sightingId));
    return before - this.history.sightings.length;
  }
}

class Bucket extends FakePhotoStore {
  readonly copies: [string, string][] = [];
  async copy(from: string, to: string) {
    if (!this.keys.has(from)) return false;
    this.copies.push([from, to]);
    this.keys.add(to);
    return true;
  }
}

class People extends InMemoryPeople {
  readonly named = new Map<string, string[]>();
  async rememberNamedVisitor(personId: string, visitorId: string) {
    this.named.set(personId, [...(this.named.get(personId) ?? []), visitorId]);
  }
  override async getPerson(personId: string) {
    const person = await super.getPerson(personId);
    return this.named.has(personId) ? { ...person, namedVisitors: this.named.get(personId) } : person;
  }
}

function world() {
  const visitors = new InMemoryVisitors();
  const faces = new FakeFaceCollection(); // the visitors collection
  const bucket = new Bucket();
  const history = new FakeSightingHistory();
  const sightings = new VisitorSightingsOf(history);
  const people = new People();
  const best = snapshotKeyOf('front-door', 'sighting-2');
  visitors.items.set(VISITOR, { visitorId: VISITOR, visits: 3, firstSeenAt: '2026-12-01T10:00:00.000Z', lastSeenAt: '2026-12-03T09:00:00.000Z', lastSeenCamera: 'front-door', faceIds: ['vf-1'], bestSnapshotKey: best, bestScore: 0.03 });
  faces.faces.set('vf-1', VISITOR);
  bucket.keys.add(best);
  const unknown = (id: string, seenAt: string, extra: Partial<Sighting> = {}) => sighting({ sightingId: id, personId: 'UNKNOWN', camera: 'front-door', seenAt, similarity: undefined, visitorId: VISITOR, ...extra });
  history.sightings.push(
    unknown('sighting-1', '2026-12-01T10:00:00.000Z'),
    unknown('sighting-2', '2026-12-02T10:00:00.000Z', { snapshotKey: best }),
    unknown('sighting-3', '2026-12-03T09:00:00.000Z'),
    sighting({ sightingId: 'other', personId: 'UNKNOWN', camera: 'front-door', seenAt: '2026-12-03T09:00:00.000Z' }),
  );
  const namePorts: NamePorts = { visitors, faces, photos: bucket, sightings, people };
  const erasePorts: VisitorErasePorts = { visitors, faces, sightings, snapshots: bucket };
  return { visitors, faces, bucket, history, sightings, people, best, namePorts, erasePorts };
}

const links = { urlFor: async (key: string) => `https://signed.example/${key}` };
const NOW = new Date('2026-12-04T12:00:00Z');

describe('visitors in the API', () => {
  it('lists visitors last seen first, with their best snapshot linked, page by page', async () => {
    const w = world();
    w.visitors.items.set('v-00000000000000b2', { visitorId: 'v-00000000000000b2', visits: 1, firstSeenAt: '2026-12-04T08:00:00.000Z', lastSeenAt: '2026-12-04T08:00:00.000Z', lastSeenCamera: 'garage', faceIds: ['vf-2'] });

    const first = await listVisitors(w.visitors, 1, undefined, links);
    const second = await listVisitors(w.visitors, 1, first.nextCursor, links);

    expect(first).toEqual({
      visitors: [{ visitorId: 'v-00000000000000b2', visits: 1, firstSeenAt: '2026-12-04T08:00:00.000Z', lastSeenAt: '2026-12-04T08:00:00.000Z', lastSeenCamera: 'garage', faces: 1 }],
      nextCursor: '1',
    });
    expect(second).toEqual({
      visitors: [
        {
          visitorId: VISITOR,
          visits: 3,
          firstSeenAt: '2026-12-01T10:00:00.000Z',
          lastSeenAt: '2026-12-03T09:00:00.000Z',
          lastSeenCamera: 'front-door',
          faces: 1,
          snapshotKey: w.best,
          snapshotUrl: `https://signed.example/${w.best}`,
        },
      ],
    });
    await expect(getVisitor(w.visitors, VISITOR, links)).resolves.toEqual(second.visitors[0]);
    await expect(getVisitor(w.visitors, 'v-ffffffffffffffff')).rejects.toThrow(NotFoundError);
  });

  it('names a visitor as a new person: the best snapshot goes into their folder, the sightings become theirs, the visitor goes', async () => {
    const w = world();

    const naming = await nameVisitor(w.namePorts, VISITOR, { name: 'Dana Visitor' }, NOW);

    expect(naming).toEqual({
      visitorId: VISITOR,
      personId: 'Dana-Visitor:' + naming.personId.split(':')[1],
      displayName: 'Dana Visitor',
      photoKey: `faces/Dana Visitor/visitor-${VISITOR}.jpg`,
      sightingsMoved: 3,
      facesRemoved: 1,
    });
    expect(naming.personId).toMatch(/^Dana-Visitor:[0-9a-f]{16}$/);
    expect(w.bucket.copies).toEqual([[w.best, `faces/Dana Visitor/visitor-${VISITOR}.jpg`]]);
    expect(w.faces.faces.size).toBe(0);
    expect(w.visitors.items.has(VISITOR)).toBe(false);
    expect(w.history.sightings.filter((s) => s.personId === naming.personId).map((s) => [s.sightingId, s.visitorId])).toEqual([
      ['sighting-1', undefined],
      ['sighting-2', undefined],
      ['sighting-3', undefined],
    ]);
    // another visitor's (or nobody's) unknown sightings stay as they were
    expect(w.history.sightings.find((s) => s.sightingId === 'other')?.personId).toBe('UNKNOWN');
    // the person keeps a trace of the visitor, for their erasure
    expect(w.people.named.get(naming.personId)).toEqual([VISITOR]);
  });

  it('names a visitor as an existing person by id: the photo goes into the folder their photos are in', async () => {
    const w = world();
    await w.people.ensureProfile('Ada', 'Ada', NOW.toISOString());
    await w.people.putPhoto({ personId: 'Ada', photoKey: 'faces/Ada/1.jpg', status: 'indexed', faces: [fakeFace('ada-1')], indexedAt: NOW.toISOString() }, { absent: true });

    const naming = await nameVisitor(w.namePorts, VISITOR, { personId: 'Ada' }, NOW);

    expect(naming).toMatchObject({ personId: 'Ada', displayName: 'Ada', photoKey: `faces/Ada/visitor-${VISITOR}.jpg`, sightingsMoved: 3 });
    await expect(nameVisitor(world().namePorts, VISITOR, { personId: 'Nobody' }, NOW)).rejects.toThrow(NotFoundError);
  });

  it('refuses to name a visitor without a snapshot, or whose snapshot expired, and then removes nothing', async () => {
    const w = world();
    w.bucket.keys.delete(w.best);

    await expect(nameVisitor(w.namePorts, VISITOR, { name: 'Dana' }, NOW)).rejects.toThrow(ConflictError);
    expect(w.visitors.items.has(VISITOR)).toBe(true);
    expect(w.faces.faces.size).toBe(1);
    expect(w.history.sightings.filter((s) => s.visitorId === VISITOR)).toHaveLength(3);
    expect(w.people.named.size).toBe(0);

    const none = world();
    delete none.visitors.items.get(VISITOR)!.bestSnapshotKey;
    await expect(nameVisitor(none.namePorts, VISITOR, { name: 'Dana' }, NOW)).rejects.toThrow(/no snapshot/);
    await expect(nameVisitor(none.namePorts, VISITOR, { name: '   ' }, NOW)).rejects.toThrow(ConflictError);
    await expect(nameVisitor(world().namePorts, VISITOR, { name: '   ' }, NOW)).rejects.toThrow(ValidationError);
    await expect(nameVisitor(world().namePorts, 'v-ffffffffffffffff', { name: 'Dana' }, NOW)).rejects.toThrow(NotFoundError);
  });

  it('erases a visitor: faces, every snapshot key of their sightings and the best one, sightings, record; then a 404', async () => {
    const w = world();

    const erasure = await eraseVisitor(w.erasePorts, VISITOR);

    expect(erasure).toEqual({ visitorId: VISITOR, removed: { faces: 1, sightings: 3, snapshots: 3, records: 1 } });
    expect(w.faces.faces.size).toBe(0);
    expect(w.bucket.keys.has(w.best)).toBe(false);
    expect(w.history.sightings.map((s) => s.sightingId)).toEqual(['other']);
    await expect(eraseVisitor(w.erasePorts, VISITOR)).rejects.toThrow(NotFoundError);
  });

  it('erasing a person named from a visitor also erases what the naming left of the visitor', async () => {
    const w = world();
    const naming = await nameVisitor(w.namePorts, VISITOR, { name: 'Dana' }, NOW);
    // seen again before the new photo was indexed: an unknown sighting of the (now removed) visitor
    w.history.sightings.push(sighting({ sightingId: 'late', personId: 'UNKNOWN', camera: 'front-door', seenAt: '2026-12-04T12:00:01.000Z', visitorId: VISITOR }));
    await w.people.ensureProfile(naming.personId, 'Dana', NOW.toISOString());
    const ports: ErasePorts = { people: w.people, faces: new FakeFaceCollection(), photos: w.bucket, sightings: w.history, cameras: ['front-door'], visitors: w.erasePorts };

    const erasure = await erasePerson(ports, naming.personId);

    expect(erasure.removed.namedVisitors).toEqual({ visitors: 1, faces: 0, sightings: 1, snapshots: 1, records: 0 });
    expect(erasure.removed.sightings).toBe(3); // the moved ones, as the person's
    expect(w.history.sightings.map((s) => s.sightingId)).toEqual(['other']);
    expect(w.bucket.keys.has(`faces/Dana/visitor-${VISITOR}.jpg`)).toBe(false);
    // a person never named from a visitor: the answer is as it always was
    await w.people.ensureProfile('Bob', 'Bob', NOW.toISOString());
    expect((await erasePerson(ports, 'Bob')).removed).not.toHaveProperty('namedVisitors');
  });

  it('expires the visitors not seen for the retention, faces and all, and keeps the others', async () => {
    const w = world();
    w.visitors.items.set('v-00000000000000b2', { visitorId: 'v-00000000000000b2', visits: 1, firstSeenAt: '2026-12-04T08:00:00.000Z', lastSeenAt: '2026-12-04T08:00:00.000Z', lastSeenCamera: 'garage', faceIds: ['vf-2'] });
    w.faces.faces.set('vf-2', 'v-00000000000000b2');

    // 30 days after the first visitor was last seen, two days before the second's 30 days are up
    const outcome = await expireVisitors({ ...w.erasePorts, stale: w.visitors }, new Date('2027-01-02T10:00:00Z'), 30);

    expect(outcome).toEqual({ expired: 1, faces: 1 });
    expect([...w.visitors.items.keys()]).toEqual(['v-00000000000000b2']);
    expect([...w.faces.faces.keys()]).toEqual(['vf-2']);
    expect(w.history.sightings.map((s) => s.sightingId)).toEqual(['other']);
  });
});
