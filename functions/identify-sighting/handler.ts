import { sightingReview } from '../../shared/composition/review-routes';
import { apiHandler, json, jsonBody, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { personTarget, sightingIdParam } from '../../shared/middleware/review-params';
import { identifySighting } from '../../shared/use-cases/sighting-review';

/** POST /sightings/{sightingId}/identify: "this is …" — the sighting's face becomes a photo of that person. */
const ports = sightingReview();

export async function main(event: ApiEvent) {
  const { sightingId } = parseInput(sightingIdParam, event.pathParameters ?? {}, 'path');
  const target = parseInput(personTarget, jsonBody(event), 'body');
  return json(200, await identifySighting(ports, sightingId, target, new Date()));
}

export const handler = apiHandler(main);
