import { z } from 'zod';
import { namePorts } from '../../shared/composition/visitor-naming';
import { apiHandler, json, jsonBody, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { personIdParam, visitorIdParam } from '../../shared/middleware/params';
import { nameVisitor } from '../../shared/use-cases/visitors';

/**
 * POST /visitors/{visitorId}/name: {"name": "<display name>"} (a new or existing person's folder) or
 * {"personId": "<existing>"}: the visitor's best snapshot becomes that person's photo, their sightings the person's.
 */
const ports = namePorts();

const body = z.union(
  [
    z.strictObject({
      name: z
        .string()
        .min(1, 'must not be empty')
        .max(200, 'must be at most 200 characters')
        .refine((v) => v.trim().length > 0 && !v.includes('/') && !/\p{Cc}/u.test(v), 'must be a name without "/" or control characters'),
    }),
    z.strictObject({ personId: personIdParam.shape.personId }),
  ],
  { error: 'give {"name": "<display name>"} or {"personId": "<existing person id>"}' },
);

export async function main(event: ApiEvent) {
  const { visitorId } = parseInput(visitorIdParam, event.pathParameters ?? {}, 'path');
  const target = parseInput(body, jsonBody(event), 'body');
  return json(200, await nameVisitor(ports, visitorId, target, new Date()));
}

export const handler = apiHandler(main);
