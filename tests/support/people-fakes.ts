/**
 * In-memory stand-ins for the indexer's and the API's ports, with the same semantics as the real adapters
 * (conditional writes, counts), so use cases can be tested without emulators.
 */
import { ConcurrentChangeError, type Expected } from '../../shared/domain/concurrency';
import { DEFAULT_RULES, type UnfiledPhoto } from '../../shared/domain/model';
import type { Page } from '../../shared/domain/page';
import type { FaceCollection, IndexOutcome, PhotoLocation, PhotoRecords, PhotoStore } from '../../shared/use-cases/index-photo';
import type { PeopleDirectory, PersonWithPhotos, SightingEraser } from '../../shared/use-cases/people';
import type { SightingHistory, SightingQuery } from '../../shared/use-cases/sightings';
import type { AlertRules, IndexedFace, PersonProfile, PhotoRecord, Sighting } from '../../shared/domain/model';

export class InMemoryPeople implements PhotoRecords, PeopleDirectory {
  readonly profiles = new Map<string, PersonProfile>();
  readonly photos = new Map<string, PhotoRecord>();
  readonly unfiled = new Map<string, UnfiledPhoto>();
  /** Runs once before the next conditional write: simulates a concurrent writer. */
  beforeNextWrite?: () => void;

  private id = (personId: string, key: string) => `${personId}|${key}`;

  async getPhoto(personId: string, photoKey: string) {
    const record = this.photos.get(this.id(personId, photoKey));
    return record && structuredClone(record);
  }
  private check(personId: string, photoKey: string, expected: Expected) {
    const hook = this.beforeNextWrite;
    this.beforeNextWrite = undefined;
    hook?.();
    const current = this.photos.get(this.id(personId, photoKey));
    const ok = 'absent' in expected ? !current : current !== undefined && current.sequencer === expected.sequencer;
    if (!ok) throw new ConcurrentChangeError('changed');
  }
  async putPhoto(record: PhotoRecord, expected: Expected) {
    this.check(record.personId, record.photoKey, expected);
    this.photos.set(this.id(record.personId, record.photoKey), structuredClone(record));
  }
  async deletePhoto(personId: string, photoKey: string, expected: Expected) {
    this.check(personId, photoKey, expected);
    this.photos.delete(this.id(personId, photoKey));
  }
  async ensureProfile(personId: string, displayName: string, now: string) {
    if (!this.profiles.has(personId)) {
      this.profiles.set(personId, { personId, displayName, rules: { ...DEFAULT_RULES }, createdAt: now, updatedAt: now });
    }
  }
  async getUnfiled(photoKey: string) {
    return this.unfiled.get(photoKey);
  }
  async putUnfiled(photo: UnfiledPhoto) {
    this.unfiled.set(photo.photoKey, photo);
  }
  async deleteUnfiled(photoKey: string) {
    this.unfiled.delete(photoKey);
  }
  async listUnfiled(limit: number) {
    return [...this.unfiled.values()].slice(0, limit);
  }
  async getPerson(personId: string): Promise<PersonWithPhotos> {
    return {
      profile: this.profiles.get(personId),
      photos: [...this.photos.values()].filter((p) => p.personId === personId),
    };
  }
  async listPeople(limit: number, cursor?: string): Promise<Page<PersonProfile>> {
    const all = [...this.profiles.values()].sort((a, b) => a.personId.localeCompare(b.personId));
    const start = cursor ? Number(cursor) : 0;
    const items = all.slice(start, start + limit);
    return { items, nextCursor: start + limit < all.length ? String(start + limit) : undefined };
  }
  async updateRules(personId: string, rules: Partial<AlertRules>, now: string) {
    const profile = this.profiles.get(personId);
    if (!profile) return undefined;
    const defined = Object.fromEntries(Object.entries(rules).filter(([, v]) => v !== undefined));
    const updated = { ...profile, rules: { ...profile.rules, ...defined }, updatedAt: now };
    this.profiles.set(personId, updated);
    return updated;
  }
  async deletePerson(personId: string) {
    let count = this.profiles.delete(personId) ? 1 : 0;
    for (const [id, photo] of this.photos) {
      if (photo.personId === personId) {
        this.photos.delete(id);
        count++;
      }
    }
    return count;
  }
}

/** A collection that answers IndexFaces from a script keyed by S3 key, and remembers its faces. */
export class FakeFaceCollection implements FaceCollection {
  readonly faces = new Map<string, string>(); // faceId -> externalImageId
  readonly indexCalls: { photo: PhotoLocation; externalImageId: string }[] = [];
  readonly deleteCalls: string[][] = [];
  private counter = 0;
  /** What IndexFaces answers per key; default: one face. An Error is thrown. */
  readonly script = new Map<string, IndexOutcome | Error | 'one-face'>();

  async indexFace(photo: PhotoLocation, externalImageId: string): Promise<IndexOutcome> {
    this.indexCalls.push({ photo, externalImageId });
    const answer = this.script.get(photo.key) ?? 'one-face';
    if (answer instanceof Error) throw answer;
    if (answer === 'one-face') {
      const face = fakeFace(`face-${++this.counter}`);
      this.faces.set(face.faceId, externalImageId);
      return { kind: 'indexed', faces: [face], unindexedReasons: [] };
    }
    if (answer.kind === 'indexed') for (const f of answer.faces) this.faces.set(f.faceId, externalImageId);
    return answer;
  }
  async deleteFaces(faceIds: readonly string[]) {
    this.deleteCalls.push([...faceIds]);
    let deleted = 0;
    for (const id of faceIds) if (this.faces.delete(id)) deleted++;
    return deleted;
  }
}

export class FakePhotoStore implements PhotoStore {
  readonly keys = new Set<string>();
  async exists(key: string) {
    return this.keys.has(key);
  }
  async list(prefix: string) {
    return [...this.keys].filter((k) => k.startsWith(prefix));
  }
  async delete(keys: readonly string[]) {
    for (const key of keys) this.keys.delete(key);
    return keys.length;
  }
}

export class FakeSightingHistory implements SightingHistory, SightingEraser {
  sightings: Sighting[] = [];
  readonly alertStates = new Set<string>();
  readonly queries: SightingQuery[] = [];
  async query(query: SightingQuery): Promise<Page<Sighting>> {
    this.queries.push(query);
    const items = this.sightings
      .filter((s) => (!query.personId || s.personId === query.personId) && (!query.camera || s.camera === query.camera))
      .filter((s) => s.seenAt >= query.since && s.seenAt <= query.until)
      .sort((a, b) => b.seenAt.localeCompare(a.seenAt));
    return { items: items.slice(0, query.limit) };
  }
  async deleteByPerson(personId: string) {
    const before = this.sightings.length;
    this.sightings = this.sightings.filter((s) => s.personId !== personId);
    return before - this.sightings.length;
  }
  async deleteAlertStates(personId: string, cameras: readonly string[]) {
    let deleted = 0;
    for (const camera of cameras) if (this.alertStates.delete(`${personId}#${camera}`)) deleted++;
    return deleted;
  }
}

export function fakeFace(faceId: string): IndexedFace {
  return {
    faceId,
    imageId: `image-of-${faceId}`,
    boundingBox: { Width: 0.4, Height: 0.5, Left: 0.3, Top: 0.2 },
    confidence: 99.9,
    quality: { Brightness: 80, Sharpness: 90 },
  };
}

export function sighting(overrides: Partial<Sighting> & Pick<Sighting, 'sightingId' | 'personId' | 'camera' | 'seenAt'>): Sighting {
  return {
    day: overrides.seenAt.slice(0, 10),
    serverTimestamp: Date.parse(overrides.seenAt) / 1000,
    producerTimestamp: Date.parse(overrides.seenAt) / 1000,
    frameOffsetInSeconds: 0,
    fragmentNumber: '91343852333181506862203065875037152061796366840',
    streamArn: 'arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam/1',
    faceIndex: 0,
    boundingBox: { Width: 0.2, Height: 0.3, Left: 0.1, Top: 0.1 },
    similarity: 97.5,
    expiresAt: Math.floor(Date.parse(overrides.seenAt) / 1000) + 86_400,
    ...overrides,
  };
}
