import { visitorsRoute } from '../../shared/composition/visitor-reads';
import { apiHandler, json, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { visitorIdParam } from '../../shared/middleware/params';
import { getVisitor } from '../../shared/use-cases/visitors';

/** GET /visitors/{visitorId}: one recurring unknown visitor, with a presigned link to their best snapshot. */
const { visitors, snapshotLinks } = visitorsRoute();

export async function main(event: ApiEvent) {
  const { visitorId } = parseInput(visitorIdParam, event.pathParameters ?? {}, 'path');
  return json(200, await getVisitor(visitors, visitorId, snapshotLinks));
}

export const handler = apiHandler(main);
