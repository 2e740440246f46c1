import { randomUUID } from 'node:crypto';
import { FACES_PREFIX, MAX_PHOTO_BYTES } from '../domain/photo-key';
import { personIdFromName } from '../domain/person-id';
import { NotFoundError, ValidationError } from '../errors';
import type { PersonWithPhotos } from './people';

/** Presigned uploads into the faces bucket: the browser PUTs the bytes itself, and the S3 event indexes them. */
export interface UploadLinks {
  /** A PUT URL for exactly this key, content type and size (all three are signed). */
  putUrl(key: string, contentType: string, bytes: number): Promise<string>;
  readonly lifetimeSeconds: number;
}

/** Who a photo is of: an existing person, or a name (a new person, or the person that name already is). */
export type PersonTarget = { personId: string } | { name: string };

export interface UploadRequest {
  target: PersonTarget;
  files: { fileName: string; contentType: 'image/jpeg' | 'image/png'; bytes: number }[];
}

export interface PlannedUpload {
  fileName: string;
  photoKey: string;
  url: string;
  method: 'PUT';
  /** Send exactly these headers: they are part of the signature. */
  headers: { 'content-type': string };
}

export interface UploadPlan {
  personId: string;
  displayName: string;
  uploads: PlannedUpload[];
  expiresInSeconds: number;
}

const EXTENSION = { 'image/jpeg': 'jpg', 'image/png': 'png' } as const;

/** A folder name as the indexer reads it: one path segment, printable, not blank. */
export function checkPersonName(name: string): string {
  const trimmed = name.normalize('NFC').trim();
  if (trimmed === '') throw new ValidationError('name: give the person\'s name', { field: 'name' });
  if (trimmed.length > 100) throw new ValidationError('name: at most 100 characters', { field: 'name' });
  if (/[/\\\u0000-\u001f\u007f]/.test(trimmed)) throw new ValidationError('name: no slashes or control characters', { field: 'name' });
  return trimmed;
}

/** The folder (faces/<folder>/) and id of the person a photo is for; an existing person must exist. */
export async function personFolder(
  people: { getPerson(personId: string): Promise<PersonWithPhotos> },
  target: PersonTarget,
): Promise<{ folder: string; personId: string }> {
  if ('name' in target) {
    const folder = checkPersonName(target.name);
    return { folder, personId: personIdFromName(folder) };
  }
  const person = await people.getPerson(target.personId);
  const folder = person.profile?.displayName ?? person.photos.map((p) => /^faces\/([^/]+)\//.exec(p.photoKey)?.[1]).find(Boolean);
  if (!folder) throw new NotFoundError(`No person with id "${target.personId}": list people with GET /people`, { field: 'personId' });
  return { folder, personId: target.personId };
}

/** One presigned PUT per file, each under a fresh key in the person's folder (two uploads never overwrite each other). */
export async function planUploads(
  ports: { people: { getPerson(personId: string): Promise<PersonWithPhotos> }; links: UploadLinks },
  request: UploadRequest,
): Promise<UploadPlan> {
  if (request.files.length === 0) throw new ValidationError('files: give at least one photo', { field: 'files' });
  for (const file of request.files) {
    if (file.bytes > MAX_PHOTO_BYTES) {
      throw new ValidationError(`files: "${file.fileName}" is ${(file.bytes / 1048576).toFixed(1)} MB; photos may be at most 15 MB`, { field: 'files' });
    }
  }
  const { folder, personId } = await personFolder(ports.people, request.target);
  const uploads = await Promise.all(
    request.files.map(async (file) => {
      const base = file.fileName.replace(/\.[^.]*$/, '').replace(/[^\p{L}\p{N}_.-]+/gu, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'photo';
      const photoKey = `${FACES_PREFIX}${folder}/${base}-${randomUUID().slice(0, 8)}.${EXTENSION[file.contentType]}`;
      return {
        fileName: file.fileName,
        photoKey,
        url: await ports.links.putUrl(photoKey, file.contentType, file.bytes),
        method: 'PUT' as const,
        headers: { 'content-type': file.contentType },
      };
    }),
  );
  return { personId, displayName: folder, uploads, expiresInSeconds: ports.links.lifetimeSeconds };
}
