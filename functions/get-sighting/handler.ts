import { sightingLookup } from '../../shared/composition/review-routes';
import { apiHandler, json, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { sightingIdParam } from '../../shared/middleware/review-params';
import { getSighting } from '../../shared/use-cases/sighting-review';

/** GET /sightings/{sightingId}: one sighting with its snapshot link (the console's sighting page, alert links). */
const ports = sightingLookup();

export async function main(event: ApiEvent) {
  const { sightingId } = parseInput(sightingIdParam, event.pathParameters ?? {}, 'path');
  return json(200, await getSighting(ports, sightingId));
}

export const handler = apiHandler(main);
