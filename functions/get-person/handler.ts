import { peopleDirectory } from '../../shared/composition/people-routes';
import { personPhotoLinks } from '../../shared/composition/person-photo-links';
import { apiHandler, json, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { personIdParam } from '../../shared/middleware/params';
import { getPerson } from '../../shared/use-cases/people';

/** GET /people/{personId}: one person's profile, faces, refused photos and last sighting. */
const people = peopleDirectory();
const photoLinks = personPhotoLinks();

export async function main(event: ApiEvent) {
  const { personId } = parseInput(personIdParam, event.pathParameters ?? {}, 'path');
  return json(200, await getPerson(people, personId, photoLinks));
}

export const handler = apiHandler(main);
