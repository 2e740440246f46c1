import { eraseVisitorPorts } from '../../shared/composition/visitor-erasure';
import { apiHandler, json, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { visitorIdParam } from '../../shared/middleware/params';
import { eraseVisitor } from '../../shared/use-cases/visitors';

/** DELETE /visitors/{visitorId}: erases a visitor's faces, snapshots, sightings and record. */
const ports = eraseVisitorPorts();

export async function main(event: ApiEvent) {
  const { visitorId } = parseInput(visitorIdParam, event.pathParameters ?? {}, 'path');
  return json(200, await eraseVisitor(ports, visitorId));
}

export const handler = apiHandler(main);
