import { z } from 'zod';
import { peopleDirectory } from '../../shared/composition/people-routes';
import { apiHandler, json, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { cursorParam } from '../../shared/middleware/params';
import { listPeople } from '../../shared/use-cases/people';

/** GET /people: registered people with their faces, refused photos and last sighting; paginated. */
const people = peopleDirectory();

const query = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: cursorParam.optional(),
});

export async function main(event: ApiEvent) {
  const { limit, cursor } = parseInput(query, event.queryStringParameters ?? {}, 'query');
  return json(200, await listPeople(people, limit, cursor));
}

export const handler = apiHandler(main);
