import { erasePorts } from '../../shared/composition/erasure';
import { apiHandler, json, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { personIdParam } from '../../shared/middleware/params';
import { erasePerson, type ErasePorts } from '../../shared/use-cases/people';

/** DELETE /people/{personId}: erases the person's faces, photos, sightings, alert state and records. */
const ports: ErasePorts = erasePorts();

export async function main(event: ApiEvent) {
  const { personId } = parseInput(personIdParam, event.pathParameters ?? {}, 'path');
  return json(200, await erasePerson(ports, personId));
}

export const handler = apiHandler(main);
