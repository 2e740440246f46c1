import { personIdFromName } from './person-id';

/** Where photos of registered people live in the faces bucket: faces/<person>/<file>. */
export const FACES_PREFIX = 'faces/';

/** Rekognition reads at most 15 MB from S3 (5 MB as bytes). */
export const MAX_PHOTO_BYTES = 15 * 1024 * 1024;

const FORMATS: Record<string, 'jpeg' | 'png'> = { jpg: 'jpeg', jpeg: 'jpeg', png: 'png' };

/** S3 event keys are URL-encoded with '+' for a space ("faces/Jos%C3%A9+Mar%C3%ADa/1.jpg"). */
export function decodeS3EventKey(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    // Not valid percent-encoding: the key was not encoded by S3 (a hand-made event); use it as given.
    return raw;
  }
}

export type PhotoKey =
  /** faces/<person>/<file>: a photo of a person, of a format Rekognition may accept or not. */
  | { kind: 'photo'; key: string; folder: string; fileName: string; personId: string; format?: 'jpeg' | 'png' }
  /** faces/<person>/ (a "folder" made in the S3 console): nothing to register. */
  | { kind: 'folder'; key: string }
  /** Anything else under faces/ (faces/x.jpg, faces/a/b/c.jpg): it cannot be attributed to a person. */
  | { kind: 'outside-layout'; key: string };

export function parsePhotoKey(key: string): PhotoKey {
  if (!key.startsWith(FACES_PREFIX)) return { kind: 'outside-layout', key };
  const parts = key.slice(FACES_PREFIX.length).split('/');
  if (parts.length === 2 && parts[0] !== '' && parts[1] === '') return { kind: 'folder', key };
  if (parts.length !== 2 || parts[0].trim() === '' || parts[1] === '') return { kind: 'outside-layout', key };
  const [folder, fileName] = parts;
  const extension = /\.([^.]+)$/.exec(fileName)?.[1]?.toLowerCase();
  return { kind: 'photo', key, folder, fileName, personId: personIdFromName(folder), format: extension ? FORMATS[extension] : undefined };
}

/** The key prefix of a person's folder, as uploaded. */
export const personFolderPrefix = (folder: string) => `${FACES_PREFIX}${folder}/`;

/**
 * S3 orders events for one key by `sequencer`: hex strings of varying length, compared after left padding.
 * Returns <0, 0, >0 like a comparator.
 */
export function compareSequencers(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const pa = a.toUpperCase().padStart(width, '0');
  const pb = b.toUpperCase().padStart(width, '0');
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}
