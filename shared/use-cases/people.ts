import { DEFAULT_RULES, type AlertRules, type PersonProfile, type PhotoRecord, type UnfiledPhoto } from '../domain/model';
import type { Page } from '../domain/page';
import { parsePhotoKey, personFolderPrefix } from '../domain/photo-key';
import { NotFoundError } from '../errors';
import { UNKNOWN_PERSON } from '../tables';
import type { FaceCollection, PhotoStore } from './index-photo';
import { eraseVisitorData, type VisitorErasePorts } from './visitors';

export interface PersonWithPhotos {
  profile?: PersonProfile;
  photos: PhotoRecord[];
  /** Recurring visitors named as this person (POST /visitors/{visitorId}/name), when the directory keeps them. */
  namedVisitors?: string[];
}

/** The API's part of the people table: people with their photos, their rules, and erasure of their items. */
export interface PeopleDirectory {
  getPerson(personId: string): Promise<PersonWithPhotos>;
  listPeople(limit: number, cursor?: string): Promise<Page<PersonProfile>>;
  listUnfiled(limit: number): Promise<UnfiledPhoto[]>;
  /** Updates the given rules; undefined when the person does not exist. */
  updateRules(personId: string, rules: Partial<AlertRules>, now: string): Promise<PersonProfile | undefined>;
  /** Deletes every item of the person (profile, photos); answers how many. */
  deletePerson(personId: string): Promise<number>;
}

/** Erasure of what the consumer wrote about a person. */
export interface SightingEraser {
  /** Deletes every sighting of the person; answers how many. */
  deleteByPerson(personId: string): Promise<number>;
  /** Deletes the person's alert state on each camera; answers how many existed. */
  deleteAlertStates(personId: string, cameras: readonly string[]): Promise<number>;
}

/** A person as the API shows them: profile, registered faces, refused photos and when last seen. */
export interface PersonView {
  personId: string;
  displayName: string;
  rules: AlertRules;
  createdAt?: string;
  updatedAt?: string;
  lastSeenAt?: string;
  lastSeenCamera?: string;
  faces: {
    faceId: string;
    photoKey: string;
    confidence: number;
    quality: PhotoRecord['faces'][number]['quality'];
    boundingBox: PhotoRecord['faces'][number]['boundingBox'];
    indexedAt: string;
  }[];
  rejectedPhotos: { photoKey: string; reason: string; message: string; recordedAt: string }[];
}

export function toPersonView(personId: string, person: PersonWithPhotos): PersonView {
  const profile: Partial<PersonProfile> = person.profile ?? {};
  const photos = [...person.photos].sort((a, b) => a.photoKey.localeCompare(b.photoKey));
  return {
    personId,
    displayName: profile.displayName ?? personId,
    rules: { ...DEFAULT_RULES, ...profile.rules },
    ...(profile.createdAt ? { createdAt: profile.createdAt } : {}),
    ...(profile.updatedAt ? { updatedAt: profile.updatedAt } : {}),
    ...(profile.lastSeenAt ? { lastSeenAt: profile.lastSeenAt } : {}),
    ...(profile.lastSeenCamera ? { lastSeenCamera: profile.lastSeenCamera } : {}),
    faces: photos.flatMap((photo) =>
      photo.faces.map((face) => ({
        faceId: face.faceId,
        photoKey: photo.photoKey,
        confidence: face.confidence,
        quality: face.quality,
        boundingBox: face.boundingBox,
        indexedAt: photo.indexedAt,
      })),
    ),
    rejectedPhotos: photos
      .filter((photo) => photo.status === 'rejected' && photo.rejection)
      .map((photo) => ({ photoKey: photo.photoKey, reason: photo.rejection!.reason, message: photo.rejection!.message, recordedAt: photo.indexedAt })),
  };
}

export interface PeoplePage {
  people: PersonView[];
  nextCursor?: string;
  /** Photos under faces/ outside any person's folder, with why they were not registered (up to 100, by key). */
  unfiledPhotos: { photoKey: string; reason: string; message: string; recordedAt: string }[];
}

export async function listPeople(people: PeopleDirectory, limit: number, cursor?: string): Promise<PeoplePage> {
  const [page, unfiled] = await Promise.all([people.listPeople(limit, cursor), people.listUnfiled(100)]);
  const views = await Promise.all(page.items.map(async (profile) => toPersonView(profile.personId, await people.getPerson(profile.personId))));
  return {
    people: views,
    ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    unfiledPhotos: unfiled.map((u) => ({ photoKey: u.photoKey, reason: u.rejection.reason, message: u.rejection.message, recordedAt: u.recordedAt })),
  };
}

/** Presigned GET links to the person's photos (the console shows them); only when the route is given a linker. */
export interface PhotoLinks {
  urlFor(key: string): Promise<string>;
}

export async function getPerson(people: PeopleDirectory, personId: string, photoLinks?: PhotoLinks): Promise<PersonView & { photoUrls?: Record<string, string> }> {
  const person = await people.getPerson(personId);
  if (!person.profile && person.photos.length === 0) throw unknownPerson(personId);
  const view = toPersonView(personId, person);
  if (!photoLinks) return view;
  const keys = [...new Set(person.photos.map((p) => p.photoKey))];
  const urls = await Promise.all(keys.map(async (key) => [key, await photoLinks.urlFor(key)] as const));
  return { ...view, photoUrls: Object.fromEntries(urls) };
}

export async function updatePersonRules(people: PeopleDirectory, personId: string, rules: Partial<AlertRules>, now: Date): Promise<PersonView> {
  const updated = await people.updateRules(personId, rules, now.toISOString());
  if (!updated) throw unknownPerson(personId);
  return toPersonView(personId, await people.getPerson(personId));
}

export interface ErasePorts {
  people: Pick<PeopleDirectory, 'getPerson' | 'deletePerson'>;
  faces: Pick<FaceCollection, 'deleteFaces'>;
  photos: Pick<PhotoStore, 'list' | 'delete'>;
  sightings: SightingEraser;
  cameras: readonly string[];
  /** With visitors: what is left of the visitors named as the person (docs/visitors.md). */
  visitors?: VisitorErasePorts;
}

export interface Erasure {
  personId: string;
  removed: {
    faces: number;
    photos: number;
    records: number;
    sightings: number;
    alertStates: number;
    /** Only for a person named from visitors: what was left of those visitors (faces, sightings, snapshots, records). */
    namedVisitors?: { visitors: number; faces: number; sightings: number; snapshots: number; records: number };
  };
}

/**
 * Erases everything known about a person (biometric data first): faces in the collection, photos in the
 * bucket, sightings, alert state, and last the people-table items, which list the faces and photos, so
 * an interrupted erase can simply be repeated.
 */
export async function erasePerson(ports: ErasePorts, personId: string): Promise<Erasure> {
  if (personId === UNKNOWN_PERSON) throw unknownPerson(personId);
  const person = await ports.people.getPerson(personId);
  const faceIds = person.photos.flatMap((p) => p.faces.map((f) => f.faceId));
  const faces = faceIds.length > 0 ? await ports.faces.deleteFaces(faceIds) : 0;

  // Photos the records name, plus whatever else sits in the person's folder(s) (uploads not processed yet).
  const folders = new Set<string>(person.profile ? [person.profile.displayName] : []);
  for (const photo of person.photos) {
    const parsed = parsePhotoKey(photo.photoKey);
    if (parsed.kind === 'photo') folders.add(parsed.folder);
  }
  const keys = new Set(person.photos.map((p) => p.photoKey));
  for (const folder of folders) for (const key of await ports.photos.list(personFolderPrefix(folder))) keys.add(key);
  const photos = keys.size > 0 ? await ports.photos.delete([...keys]) : 0;

  const sightings = await ports.sightings.deleteByPerson(personId);
  const alertStates = await ports.sightings.deleteAlertStates(personId, ports.cameras);
  // Visitors named as the person: anything a naming left (it was interrupted, or the visitor was seen again
  // before the person's photo was indexed). Their marks are people-table items, deleted with the rest below.
  const named = ports.visitors ? (person.namedVisitors ?? []) : [];
  const namedVisitors = { visitors: named.length, faces: 0, sightings: 0, snapshots: 0, records: 0 };
  for (const visitorId of named) {
    const { removed } = await eraseVisitorData(ports.visitors!, visitorId);
    namedVisitors.faces += removed.faces;
    namedVisitors.sightings += removed.sightings;
    namedVisitors.snapshots += removed.snapshots;
    namedVisitors.records += removed.records;
  }
  const records = await ports.people.deletePerson(personId);
  if (records === 0 && sightings === 0 && alertStates === 0 && faces === 0 && photos === 0) throw unknownPerson(personId);
  return { personId, removed: { faces, photos, records, sightings, alertStates, ...(named.length ? { namedVisitors } : {}) } };
}

function unknownPerson(personId: string) {
  return new NotFoundError(`No person with id "${personId}": list people with GET /people`, { field: 'personId' });
}
