import type { Page } from '../domain/page';
import { parsePhotoKey, personFolderPrefix } from '../domain/photo-key';
import { personIdFromName } from '../domain/person-id';
import { snapshotKeyOf } from '../domain/snapshot-key';
import { visitorPhotoName, type VisitorRecord } from '../domain/visitor';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import type { FaceCollection, PhotoStore } from './index-photo';
import type { PeopleDirectory } from './people';
import type { SnapshotLinks } from './record-sightings';

/**
 * The API's recurring unknown visitors (docs/visitors.md): list and read them, name one as a person (their best
 * snapshot becomes that person's photo through the faces/ path, their sightings become the person's), erase one.
 */

/** The visitors table, as the API reads and removes it (the consumer keeps it: shared/use-cases/record-sightings.ts). */
export interface VisitorDirectory {
  /** Newest lastSeenAt first. */
  list(limit: number, cursor?: string): Promise<Page<VisitorRecord>>;
  get(visitorId: string): Promise<VisitorRecord | undefined>;
  /** Answers whether there was a record. */
  delete(visitorId: string): Promise<boolean>;
}

/** A visitor's sightings, through the sightings table's byVisitor index. */
export interface VisitorSightings {
  /** Every sighting that carries the visitor's id. */
  ofVisitor(visitorId: string): Promise<{ sightingId: string; camera: string; snapshotKey?: string }[]>;
  /**
   * These sightings become the person's (personId set, visitorId removed), each only if it is still an unknown face
   * of this visitor: repeating the move changes nothing. Answers how many moved.
   */
  moveToPerson(sightingIds: readonly string[], visitorId: string, personId: string): Promise<number>;
  /** Answers how many were deleted. */
  deleteSightings(sightingIds: readonly string[]): Promise<number>;
}

/** Copies an object of the faces bucket (a snapshot into a person's folder). */
export interface PhotoCopier {
  /** False when the source is not there (the snapshot expired or was never stored). */
  copy(fromKey: string, toKey: string): Promise<boolean>;
}

/** The person side of naming: who a person id is, and a trace of each visitor named as them (for their erasure). */
export interface NamedVisitorPeople {
  getPerson: PeopleDirectory['getPerson'];
  rememberNamedVisitor(personId: string, visitorId: string, at: string): Promise<void>;
}

export interface VisitorView {
  visitorId: string;
  /** Visits: each time the visitor came into a camera's view after the visit gap. */
  visits: number;
  firstSeenAt: string;
  lastSeenAt: string;
  lastSeenCamera: string;
  /** Faces of the visitor in the visitors collection. */
  faces: number;
  /** The best snapshot of the visitor (the largest, most frontal face seen), when the processor keeps snapshots. */
  snapshotKey?: string;
  /** Presigned link to it, valid snapshotLinkSeconds. */
  snapshotUrl?: string;
}

async function toView(record: VisitorRecord, links?: Pick<SnapshotLinks, 'urlFor'>): Promise<VisitorView> {
  return {
    visitorId: record.visitorId,
    visits: record.visits,
    firstSeenAt: record.firstSeenAt,
    lastSeenAt: record.lastSeenAt,
    lastSeenCamera: record.lastSeenCamera,
    faces: record.faceIds.length,
    ...(record.bestSnapshotKey ? { snapshotKey: record.bestSnapshotKey } : {}),
    ...(record.bestSnapshotKey && links ? { snapshotUrl: await links.urlFor(record.bestSnapshotKey) } : {}),
  };
}

export async function listVisitors(
  visitors: Pick<VisitorDirectory, 'list'>,
  limit: number,
  cursor: string | undefined,
  links?: Pick<SnapshotLinks, 'urlFor'>,
): Promise<{ visitors: VisitorView[]; nextCursor?: string }> {
  const page = await visitors.list(limit, cursor);
  return { visitors: await Promise.all(page.items.map((v) => toView(v, links))), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
}

export async function getVisitor(visitors: Pick<VisitorDirectory, 'get'>, visitorId: string, links?: Pick<SnapshotLinks, 'urlFor'>): Promise<VisitorView> {
  const record = await visitors.get(visitorId);
  if (!record) throw unknownVisitor(visitorId);
  return toView(record, links);
}

export interface NamePorts {
  visitors: Pick<VisitorDirectory, 'get' | 'delete'>;
  /** The visitors collection. */
  faces: Pick<FaceCollection, 'deleteFaces'>;
  photos: PhotoCopier;
  sightings: Pick<VisitorSightings, 'ofVisitor' | 'moveToPerson'>;
  people: NamedVisitorPeople;
}

/** Who a visitor is named as: a new or existing person by display name (their folder), or an existing person by id. */
export type NameTarget = { name: string } | { personId: string };

export interface Naming {
  visitorId: string;
  personId: string;
  displayName: string;
  /** The registered photo: the visitor's best snapshot copied into the person's folder (indexed by the S3 event). */
  photoKey: string;
  sightingsMoved: number;
  facesRemoved: number;
}

/**
 * Names a visitor: their best snapshot is copied to faces/<folder>/visitor-<id>.jpg (the indexer registers it like
 * any uploaded photo, and GET /people shows it indexed or refused), their sightings become the person's, and the
 * visitor goes (faces from the visitors collection, then the record, last, so that an interrupted naming can be
 * repeated). The person keeps a trace of the visitor, so that erasing the person covers what is left of it.
 */
export async function nameVisitor(ports: NamePorts, visitorId: string, target: NameTarget, now: Date): Promise<Naming> {
  const visitor = await ports.visitors.get(visitorId);
  if (!visitor) throw unknownVisitor(visitorId);
  if (!visitor.bestSnapshotKey) {
    throw new ConflictError(`Visitor "${visitorId}" has no snapshot to register (the processor keeps snapshots only when PROCESSOR_SNAPSHOTS is on): register the person with a photo instead`);
  }
  const { personId, folder, displayName } = await resolveTarget(ports.people, target, visitorId);
  const photoKey = `${personFolderPrefix(folder)}${visitorPhotoName(visitorId)}`;

  if (!(await ports.photos.copy(visitor.bestSnapshotKey, photoKey))) {
    throw new ConflictError(`The best snapshot of visitor "${visitorId}" (${visitor.bestSnapshotKey}) is no longer stored (snapshots expire with the sightings): register the person with a photo instead`);
  }
  // Before anything of the visitor goes: from now on, erasing the person covers what is left of it.
  await ports.people.rememberNamedVisitor(personId, visitorId, now.toISOString());
  const facesRemoved = visitor.faceIds.length ? await ports.faces.deleteFaces(visitor.faceIds) : 0;
  const sightings = await ports.sightings.ofVisitor(visitorId);
  const sightingsMoved = sightings.length ? await ports.sightings.moveToPerson(sightings.map((s) => s.sightingId), visitorId, personId) : 0;
  await ports.visitors.delete(visitorId);
  return { visitorId, personId, displayName, photoKey, sightingsMoved, facesRemoved };
}

async function resolveTarget(people: NamedVisitorPeople, target: NameTarget, visitorId: string): Promise<{ personId: string; folder: string; displayName: string }> {
  if ('name' in target) {
    // The folder the indexer reads the person from: the same rules as an upload's.
    const parsed = parsePhotoKey(`${personFolderPrefix(target.name)}${visitorPhotoName(visitorId)}`);
    if (parsed.kind !== 'photo') throw new ValidationError('name: must be a folder name under faces/ (no "/", not blank)', { field: 'name' });
    return { personId: parsed.personId, folder: parsed.folder, displayName: target.name };
  }
  const person = await people.getPerson(target.personId);
  if (!person.profile && person.photos.length === 0) {
    throw new NotFoundError(`No person with id "${target.personId}": list people with GET /people, or give "name" to register a new one`, { field: 'personId' });
  }
  // A folder that surely maps to this id: one of their photos', else their display name's.
  const folders = person.photos.map((p) => parsePhotoKey(p.photoKey)).flatMap((p) => (p.kind === 'photo' && p.personId === target.personId ? [p.folder] : []));
  const displayName = person.profile?.displayName ?? folders[0] ?? target.personId;
  const folder = folders[0] ?? (personIdFromName(displayName) === target.personId ? displayName : undefined);
  if (!folder) throw new ConflictError(`Person "${target.personId}" has no photo folder to add the visitor's snapshot to`, { field: 'personId' });
  return { personId: target.personId, folder, displayName };
}

export interface VisitorErasePorts {
  visitors: Pick<VisitorDirectory, 'get' | 'delete'>;
  /** The visitors collection. */
  faces: Pick<FaceCollection, 'deleteFaces'>;
  sightings: Pick<VisitorSightings, 'ofVisitor' | 'deleteSightings'>;
  /** The faces bucket (snapshots/...). */
  snapshots: Pick<PhotoStore, 'delete'>;
}

export interface VisitorErasure {
  visitorId: string;
  removed: {
    /** Faces deleted from the visitors collection. */
    faces: number;
    sightings: number;
    /** Snapshot keys deleted: each sighting's (whether the processor kept one for it or not) and the best one. */
    snapshots: number;
    /** Visitors-table items (0 or 1). */
    records: number;
  };
}

/** Everything about a visitor, biometric data first (faces, snapshots), the record last: repeating it finishes the job. */
export async function eraseVisitorData(ports: VisitorErasePorts, visitorId: string): Promise<VisitorErasure> {
  const visitor = await ports.visitors.get(visitorId);
  const faces = visitor?.faceIds.length ? await ports.faces.deleteFaces(visitor.faceIds) : 0;
  const sightings = await ports.sightings.ofVisitor(visitorId);
  const keys = new Set(sightings.flatMap((s) => [snapshotKeyOf(s.camera, s.sightingId), ...(s.snapshotKey ? [s.snapshotKey] : [])]));
  if (visitor?.bestSnapshotKey) keys.add(visitor.bestSnapshotKey);
  const snapshots = keys.size ? await ports.snapshots.delete([...keys]) : 0;
  const deleted = sightings.length ? await ports.sightings.deleteSightings(sightings.map((s) => s.sightingId)) : 0;
  const records = (await ports.visitors.delete(visitorId)) ? 1 : 0;
  return { visitorId, removed: { faces, sightings: deleted, snapshots, records } };
}

/** DELETE /visitors/{visitorId}: a 404 when nothing at all was known about the visitor. */
export async function eraseVisitor(ports: VisitorErasePorts, visitorId: string): Promise<VisitorErasure> {
  const erasure = await eraseVisitorData(ports, visitorId);
  const { faces, sightings, snapshots, records } = erasure.removed;
  if (faces + sightings + snapshots + records === 0) throw unknownVisitor(visitorId);
  return erasure;
}

/** The visitors not seen for a while, through the byLastSeen index. */
export interface StaleVisitors {
  /** Visitors last seen before `cutoff` (ISO), oldest first, at most `limit`. */
  lastSeenBefore(cutoff: string, limit: number): Promise<VisitorRecord[]>;
}

/**
 * Retention: a visitor not seen for `retentionDays` (sightingRetentionDays: by then their sightings and snapshots
 * have expired) is erased, faces included, oldest first, up to `max` per run. Answers how many.
 */
export async function expireVisitors(ports: VisitorErasePorts & { stale: StaleVisitors }, now: Date, retentionDays: number, max = 1000): Promise<{ expired: number; faces: number }> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000).toISOString();
  let expired = 0;
  let faces = 0;
  while (expired < max) {
    const batch = await ports.stale.lastSeenBefore(cutoff, Math.min(100, max - expired));
    if (!batch.length) break;
    for (const visitor of batch) {
      faces += (await eraseVisitorData(ports, visitor.visitorId)).removed.faces;
      expired++;
    }
  }
  return { expired, faces };
}

function unknownVisitor(visitorId: string) {
  return new NotFoundError(`No visitor with id "${visitorId}": list visitors with GET /visitors`, { field: 'visitorId' });
}
