import { z } from 'zod';
import { sightingsRoute } from '../../shared/composition/sightings-routes';
import { isPersonId } from '../../shared/domain/person-id';
import { UNKNOWN_PERSON } from '../../shared/tables';
import { apiHandler, json, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { cameraName, cursorParam, visitorId } from '../../shared/middleware/params';
import { listSightings } from '../../shared/use-cases/sightings';

/** GET /sightings: newest first, filtered by person, visitor and/or camera and time, paginated with an opaque cursor. */
const { history, retentionDays, snapshotLinks } = sightingsRoute();

const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time, e.g. 2025-01-31T18:00:00Z' }).transform((v) => new Date(v));

const query = z.object({
  personId: z
    .string()
    .refine((v) => v === UNKNOWN_PERSON || isPersonId(v), `is not a person id (or ${UNKNOWN_PERSON} for unmatched faces)`)
    .optional(),
  camera: cameraName.optional(),
  /** A recurring unknown visitor's sightings (docs/visitors.md). */
  visitorId: visitorId.optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: cursorParam.optional(),
});

export async function main(event: ApiEvent) {
  const filters = parseInput(query, event.queryStringParameters ?? {}, 'query');
  return json(200, await listSightings(history, filters, new Date(), retentionDays, snapshotLinks));
}

export const handler = apiHandler(main);
