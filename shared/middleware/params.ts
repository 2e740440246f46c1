import { z } from 'zod';
import { isPersonId } from '../domain/person-id';
import { isVisitorId } from '../domain/visitor';

/** Request fields several routes share, validated at the edge. */

/** {personId} as produced by the indexer; tolerated percent-encoded (a ':' may arrive as %3A). */
export const personIdParam = z.object({
  personId: z
    .string()
    .transform((v) => (v.includes('%') ? safeDecode(v) : v))
    .refine(isPersonId, 'is not a person id: use the personId listed by GET /people'),
});

/** {visitorId}: `v-` and 16 hex digits, as GET /visitors lists them. */
export const visitorId = z.string().refine(isVisitorId, 'is not a visitor id: use the visitorId listed by GET /visitors (v- and 16 hex digits)');
export const visitorIdParam = z.object({ visitorId });

export const cameraName = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/, 'is not a camera name (lowercase letters, digits and inner hyphens)');

export const cameraQuery = z.object({ camera: cameraName.optional() });

export const cursorParam = z.string().min(1).max(4096).regex(/^[A-Za-z0-9_-]+$/, 'is not a cursor returned by this API');

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
