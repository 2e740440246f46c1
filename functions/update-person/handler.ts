import { z } from 'zod';
import { peopleDirectory } from '../../shared/composition/people-routes';
import { apiHandler, json, jsonBody, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { personIdParam } from '../../shared/middleware/params';
import { updatePersonRules } from '../../shared/use-cases/people';

/** PATCH /people/{personId}: the person's alert rules ({"muted": bool, "watchlist": bool}, either or both). */
const people = peopleDirectory();

const body = z
  .strictObject({ muted: z.boolean().optional(), watchlist: z.boolean().optional() })
  .refine((rules) => rules.muted !== undefined || rules.watchlist !== undefined, 'give "muted" and/or "watchlist" (booleans)');

export async function main(event: ApiEvent) {
  const { personId } = parseInput(personIdParam, event.pathParameters ?? {}, 'path');
  const rules = parseInput(body, jsonBody(event), 'body');
  return json(200, await updatePersonRules(people, personId, rules, new Date()));
}

export const handler = apiHandler(main);
