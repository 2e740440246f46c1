import { z } from 'zod';
import { isPersonId } from '../domain/person-id';

/** {sightingId}: 32 hex characters, as listed by GET /sightings. */
export const sightingIdParam = z.object({
  sightingId: z.string().regex(/^[0-9a-f]{32}$/, 'is not a sighting id: use the sightingId listed by GET /sightings'),
});

const personId = z.string().refine(isPersonId, 'is not a person id: use the personId listed by GET /people');

/** Who a photo is of: {"personId": "<existing>"} or {"name": "<display name>"} (a new person, or whoever has that name). */
export const personTarget = z.union([z.strictObject({ personId }), z.strictObject({ name: z.string().min(1).max(100) })], {
  error: 'give {"personId": "<id from GET /people>"} or {"name": "<the person\'s name>"}',
});
