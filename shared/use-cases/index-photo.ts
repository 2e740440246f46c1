import { ConcurrentChangeError, type Expected } from '../domain/concurrency';
import type { IndexedFace, PhotoRecord, UnfiledPhoto } from '../domain/model';
import { compareSequencers, MAX_PHOTO_BYTES, parsePhotoKey } from '../domain/photo-key';
import { rejections, type Rejection } from '../domain/photo-rejection';

/** One S3 notification record, decoded (the key is no longer URL-encoded). */
export interface PhotoEvent {
  type: 'created' | 'removed';
  bucket: string;
  key: string;
  size?: number;
  etag?: string;
  versionId?: string;
  sequencer?: string;
}

export type PhotoOutcome =
  | { outcome: 'indexed'; personId: string; faceIds: string[] }
  | { outcome: 'rejected'; personId?: string; rejection: Rejection }
  | { outcome: 'removed'; personId?: string; faceIds: string[] }
  | { outcome: 'skipped'; personId?: string; why: string };

/** The indexer's part of the people table: one record per photo, the person's profile, photos filed under nobody. */
export interface PhotoRecords {
  getPhoto(personId: string, photoKey: string): Promise<PhotoRecord | undefined>;
  /** Writes the record if the stored one is still `expected`, else throws ConcurrentChangeError. */
  putPhoto(record: PhotoRecord, expected: Expected): Promise<void>;
  deletePhoto(personId: string, photoKey: string, expected: Expected): Promise<void>;
  /** Creates the profile on a person's first photo; never overwrites rules or the creation time. */
  ensureProfile(personId: string, displayName: string, now: string): Promise<void>;
  putUnfiled(photo: UnfiledPhoto): Promise<void>;
  deleteUnfiled(photoKey: string): Promise<void>;
}

/** What the face collection made of one photo. */
export type IndexOutcome =
  | { kind: 'indexed'; faces: IndexedFace[]; unindexedReasons: string[]; faceModelVersion?: string }
  /** The image itself was refused: the reason is about the file, not the face. */
  | { kind: 'refused'; problem: 'NOT_JPEG_OR_PNG' | 'TOO_LARGE' | 'INVALID_IMAGE' | 'UNREADABLE'; detail: string };

export interface PhotoLocation {
  bucket: string;
  key: string;
  versionId?: string;
}

/** The collection of registered faces (Rekognition IndexFaces / DeleteFaces). */
export interface FaceCollection {
  indexFace(photo: PhotoLocation, externalImageId: string): Promise<IndexOutcome>;
  /** Deletes the faces; answers how many the collection actually held. */
  deleteFaces(faceIds: readonly string[]): Promise<number>;
}

/** The faces bucket, as the indexer and the eraser see it. */
export interface PhotoStore {
  /** False when the object is gone (deleted since the event was sent) or this role may not see it. */
  exists(key: string): Promise<boolean>;
  /** Every key under a prefix. */
  list(prefix: string): Promise<string[]>;
  /** Deletes the keys; answers how many were deleted. Absent keys count as deleted (S3 cannot tell). */
  delete(keys: readonly string[]): Promise<number>;
}

export interface IndexPhotoPorts {
  people: PhotoRecords;
  faces: FaceCollection;
  photos: Pick<PhotoStore, 'exists'>;
  now: () => Date;
}

/** Where the outcome of each photo event is reported (the function's structured logger). */
export interface PhotoEventLog {
  info(message: string, details: Record<string, unknown>): void;
  warn(message: string, details: Record<string, unknown>): void;
  error(message: string, details: Record<string, unknown>): void;
}

/** A photo event that failed for a reason worth retrying. */
export interface PhotoEventFailure {
  key: string;
  error: Error;
}

/**
 * Handles the photo events of one notification, each on its own: a bad photo becomes a rejection record and
 * never affects the others; a failure worth retrying is collected, so the caller can fail the invocation
 * after the others are done (the ones done are then no-ops when the event is replayed).
 */
export async function handlePhotoEvents(
  events: PhotoEvent[],
  ports: IndexPhotoPorts,
  log: PhotoEventLog,
): Promise<{ processed: number; failures: PhotoEventFailure[] }> {
  const failures: PhotoEventFailure[] = [];
  let processed = 0;
  for (const event of events) {
    try {
      const outcome = await handlePhotoEvent(event, ports);
      processed++;
      (outcome.outcome === 'rejected' ? log.warn : log.info).call(log, `Photo ${outcome.outcome}`, { key: event.key, type: event.type, ...outcome });
    } catch (error) {
      log.error('Photo event failed; the invocation will be retried', { key: event.key, type: event.type, error });
      failures.push({ key: event.key, error: error as Error });
    }
  }
  return { processed, failures };
}

/** Concurrent writers for one key are rare (S3 retries, quick overwrites): a few rounds settle them. */
const MAX_ROUNDS = 3;

/**
 * Registers or unregisters the face of one photo. Safe to run again for the same event (S3 and Lambda
 * deliver at least once) and tolerant of events arriving out of order (S3's sequencer decides).
 * Throws only for errors worth retrying (throttling, outages); a bad photo becomes a rejection record.
 */
export async function handlePhotoEvent(event: PhotoEvent, ports: IndexPhotoPorts): Promise<PhotoOutcome> {
  const parsed = parsePhotoKey(event.key);
  if (parsed.kind === 'folder') return { outcome: 'skipped', why: 'a folder placeholder, not a photo' };
  if (parsed.kind === 'outside-layout') return handleUnfiled(event, ports);
  return event.type === 'created' ? registerPhoto(event, parsed, ports) : unregisterPhoto(event, parsed.personId, ports);
}

type ParsedPhoto = Extract<ReturnType<typeof parsePhotoKey>, { kind: 'photo' }>;

async function registerPhoto(event: PhotoEvent, photo: ParsedPhoto, ports: IndexPhotoPorts): Promise<PhotoOutcome> {
  const { personId } = photo;
  const existing = await ports.people.getPhoto(personId, event.key);
  if (existing && isNotOlder(existing.sequencer, event.sequencer)) {
    return { outcome: 'skipped', personId, why: 'already processed (a redelivered or late event)' };
  }
  if (existing && existing.etag !== undefined && existing.etag === event.etag) {
    return { outcome: 'skipped', personId, why: 'same content already processed' };
  }

  const now = ports.now().toISOString();
  await ports.people.ensureProfile(personId, photo.folder, now);

  const result = await examine(event, photo, ports);
  if (result === 'gone') return { outcome: 'skipped', personId, why: 'the photo was deleted before it could be read' };

  const record: PhotoRecord = {
    personId,
    photoKey: event.key,
    ...(event.etag ? { etag: event.etag } : {}),
    ...(event.versionId ? { versionId: event.versionId } : {}),
    ...(event.sequencer ? { sequencer: event.sequencer } : {}),
    status: 'faces' in result ? 'indexed' : 'rejected',
    faces: 'faces' in result ? result.faces : [],
    ...('rejection' in result ? { rejection: result.rejection } : {}),
    indexedAt: now,
  };
  const committed = await commit(record, existing, event, ports);
  if (!committed) return { outcome: 'skipped', personId, why: 'a newer upload of this key was processed meanwhile' };
  return 'faces' in result
    ? { outcome: 'indexed', personId, faceIds: result.faces.map((f) => f.faceId) }
    : { outcome: 'rejected', personId, rejection: result.rejection };
}

/** Checks the file, then asks Rekognition: faces, a rejection, or 'gone' when the object no longer exists. */
async function examine(
  event: PhotoEvent,
  photo: ParsedPhoto,
  ports: IndexPhotoPorts,
): Promise<{ faces: IndexedFace[] } | { rejection: Rejection } | 'gone'> {
  if (!photo.format) return { rejection: rejections.notJpegOrPng(photo.fileName) };
  if (event.size !== undefined && event.size > MAX_PHOTO_BYTES) return { rejection: rejections.tooLarge(event.size) };
  if (event.size === 0) return { rejection: rejections.invalidImage('the file is empty') };

  const outcome = await ports.faces.indexFace({ bucket: event.bucket, key: event.key, versionId: event.versionId }, photo.personId);
  if (outcome.kind === 'refused') {
    switch (outcome.problem) {
      case 'NOT_JPEG_OR_PNG':
        // The service says which when it can (the local twin does; AWS says only "invalid image format").
        return { rejection: /truncated/i.test(outcome.detail ?? '') ? rejections.truncated(photo.fileName) : rejections.notJpegOrPng(photo.fileName) };
      case 'TOO_LARGE':
        return { rejection: /\d+\s*[×x]\s*\d+/.test(outcome.detail ?? '') ? rejections.tooManyPixels(outcome.detail!) : rejections.tooLarge(event.size) };
      case 'INVALID_IMAGE':
        return { rejection: rejections.invalidImage(outcome.detail) };
      case 'UNREADABLE':
        // Deleted since the event was sent (its removal event follows): nothing to record. Present but
        // unreadable means a setup problem (permissions, region): fail loudly so it is retried and seen.
        if (!(await ports.photos.exists(event.key))) return 'gone';
        throw new Error(`Rekognition cannot read s3://${event.bucket}/${event.key}: ${outcome.detail}`);
    }
  }
  if (outcome.faces.length > 0) return { faces: outcome.faces };
  return { rejection: outcome.unindexedReasons.length > 0 ? rejections.faceRefused(outcome.unindexedReasons) : rejections.noFace() };
}

/**
 * Writes the record over the one read before (optimistic concurrency) and deletes the faces it replaces.
 * Old faces go before the write: if the write never happens, a retry re-indexes (no duplicate) and writes;
 * the other way round, a crash would leave faces no record points to, which an erase could not find.
 */
async function commit(record: PhotoRecord, existing: PhotoRecord | undefined, event: PhotoEvent, ports: IndexPhotoPorts): Promise<boolean> {
  const ours = new Set(record.faces.map((f) => f.faceId));
  let current = existing;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    await deleteFacesNotIn(current, ours, ports);
    try {
      await ports.people.putPhoto(record, expectation(current));
      return true;
    } catch (error) {
      if (!(error instanceof ConcurrentChangeError)) throw error;
      current = await ports.people.getPhoto(record.personId, record.photoKey);
      if (current && isNotOlder(current.sequencer, event.sequencer)) {
        // A newer upload won: our faces belong to content that no longer exists.
        const theirs = new Set(current.faces.map((f) => f.faceId));
        await ports.faces.deleteFaces(record.faces.map((f) => f.faceId).filter((id) => !theirs.has(id)));
        return false;
      }
    }
  }
  throw new Error(`The record of ${record.photoKey} kept changing while it was written; the event will be retried`);
}

async function unregisterPhoto(event: PhotoEvent, personId: string, ports: IndexPhotoPorts): Promise<PhotoOutcome> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const existing = await ports.people.getPhoto(personId, event.key);
    if (!existing) return { outcome: 'skipped', personId, why: 'no record of this photo' };
    if (event.sequencer && existing.sequencer && compareSequencers(existing.sequencer, event.sequencer) > 0) {
      return { outcome: 'skipped', personId, why: 'the photo was uploaded again after this deletion' };
    }
    const faceIds = existing.faces.map((f) => f.faceId);
    // Faces first: if the record delete fails, the retry still finds which faces to delete.
    if (faceIds.length > 0) await ports.faces.deleteFaces(faceIds);
    try {
      await ports.people.deletePhoto(personId, event.key, expectation(existing));
      return { outcome: 'removed', personId, faceIds };
    } catch (error) {
      if (!(error instanceof ConcurrentChangeError)) throw error;
    }
  }
  throw new Error(`The record of ${event.key} kept changing while it was deleted; the event will be retried`);
}

async function handleUnfiled(event: PhotoEvent, ports: IndexPhotoPorts): Promise<PhotoOutcome> {
  if (event.type === 'removed') {
    await ports.people.deleteUnfiled(event.key);
    return { outcome: 'removed', faceIds: [] };
  }
  const rejection = rejections.outsideLayout(event.key);
  await ports.people.putUnfiled({
    photoKey: event.key,
    ...(event.etag ? { etag: event.etag } : {}),
    ...(event.sequencer ? { sequencer: event.sequencer } : {}),
    rejection,
    recordedAt: ports.now().toISOString(),
  });
  return { outcome: 'rejected', rejection };
}

async function deleteFacesNotIn(record: PhotoRecord | undefined, keep: ReadonlySet<string>, ports: IndexPhotoPorts) {
  const stale = (record?.faces ?? []).map((f) => f.faceId).filter((id) => !keep.has(id));
  if (stale.length > 0) await ports.faces.deleteFaces(stale);
}

/** True when the stored record reflects this event or a later one (so this event has nothing to add). */
function isNotOlder(stored: string | undefined, incoming: string | undefined): boolean {
  return stored !== undefined && incoming !== undefined && compareSequencers(stored, incoming) >= 0;
}

const expectation = (record: PhotoRecord | undefined): Expected => (record ? { sequencer: record.sequencer } : { absent: true });
