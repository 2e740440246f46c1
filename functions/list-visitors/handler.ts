import { z } from 'zod';
import { visitorsRoute } from '../../shared/composition/visitor-reads';
import { apiHandler, json, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { cursorParam } from '../../shared/middleware/params';
import { listVisitors } from '../../shared/use-cases/visitors';

/** GET /visitors: recurring unknown visitors, last seen first, paginated with an opaque cursor. */
const { visitors, snapshotLinks } = visitorsRoute();

const query = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: cursorParam.optional(),
});

export async function main(event: ApiEvent) {
  const { limit, cursor } = parseInput(query, event.queryStringParameters ?? {}, 'query');
  return json(200, await listVisitors(visitors, limit, cursor, snapshotLinks));
}

export const handler = apiHandler(main);
