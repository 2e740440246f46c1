import { DynamoPeopleRepository } from '../adapters/people-repository';
import { documents } from '../clients/dynamodb';
import { env, loadConfig } from '../config';
import type { PeopleDirectory } from '../use-cases/people';

/** GET /people, GET and PATCH /people/{personId}: the people table, from PEOPLE_TABLE. */
export function peopleDirectory(source: NodeJS.ProcessEnv = process.env): PeopleDirectory {
  return new DynamoPeopleRepository(documents, loadConfig(env.peopleTable, source).PEOPLE_TABLE);
}
