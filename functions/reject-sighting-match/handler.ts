import { z } from 'zod';
import { sightingReview } from '../../shared/composition/review-routes';
import { isPersonId } from '../../shared/domain/person-id';
import { apiHandler, json, jsonBody, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { sightingIdParam } from '../../shared/middleware/review-params';
import { rejectMatch } from '../../shared/use-cases/sighting-review';

/** POST /sightings/{sightingId}/not-this-person: the match is wrong; the sighting becomes an unknown face (nothing is erased). */
const ports = sightingReview();

const body = z.strictObject({ personId: z.string().refine(isPersonId, 'is not a person id: give the person the sighting is matched to') });

export async function main(event: ApiEvent) {
  const { sightingId } = parseInput(sightingIdParam, event.pathParameters ?? {}, 'path');
  const { personId } = parseInput(body, jsonBody(event), 'body');
  return json(200, await rejectMatch(ports, sightingId, personId, new Date()));
}

export const handler = apiHandler(main);
