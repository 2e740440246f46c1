import { createHash } from 'node:crypto';
import { UNKNOWN_PERSON } from '../tables';

/**
 * A person's id is the ExternalImageId of their faces in the collection, derived from the name of their
 * folder (faces/<folder>/...). Rekognition allows only [a-zA-Z0-9_.\-:]+ (≤255) there, so:
 * - a folder name made only of [a-zA-Z0-9_.-] (≤200 chars) is the id as-is (readable, as in the seed);
 * - anything else (José María, O'Brien, a ':') becomes `<ascii slug>:<16 hex of sha256(NFC name)>`.
 * ':' never appears in an as-is id, so the two ranges cannot collide; the hash keeps two names with the same
 * slug (O'Brien / O Brien) apart. NFC first: the same name typed on macOS (NFD) and Linux (NFC) is one person.
 * A folder named like the sightings' "unknown face" marker takes the hashed form, so it stays a person.
 */
const AS_IS = /^[a-zA-Z0-9_.-]+$/;
export const MAX_AS_IS_LENGTH = 200;
const MAX_SLUG_LENGTH = 64;
const HASH_HEX_LENGTH = 16;

/** Any id personIdFromName can produce; what the API accepts in {personId}. */
export const PERSON_ID_PATTERN = /^(?:[a-zA-Z0-9_.-]{1,200}|[a-zA-Z0-9_.-]{1,64}:[0-9a-f]{16})$/;

export function personIdFromName(name: string): string {
  const normalised = name.normalize('NFC');
  if (normalised.length === 0) throw new RangeError('A person name cannot be empty');
  if (AS_IS.test(normalised) && normalised.length <= MAX_AS_IS_LENGTH && normalised !== UNKNOWN_PERSON) return normalised;
  const hash = createHash('sha256').update(normalised, 'utf8').digest('hex').slice(0, HASH_HEX_LENGTH);
  return `${slugOf(normalised)}:${hash}`;
}

/** ASCII approximation for readability only (uniqueness comes from the hash): "José María" → "Jose-Maria". */
function slugOf(name: string): string {
  const slug = name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-zA-Z0-9_.-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, MAX_SLUG_LENGTH)
    .replace(/-$/, '');
  return slug || 'person';
}

export function isPersonId(value: string): boolean {
  return PERSON_ID_PATTERN.test(value) && value !== UNKNOWN_PERSON;
}
