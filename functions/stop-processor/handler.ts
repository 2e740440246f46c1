import { processorRoutePorts } from '../../shared/composition/processor-routes';
import { apiHandler, json, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { cameraQuery } from '../../shared/middleware/params';
import { stopProcessors } from '../../shared/use-cases/processor';

/** POST /processor/stop[?camera=]: stops the face-search processor of one camera, or of every camera. */
const ports = processorRoutePorts();

export async function main(event: ApiEvent) {
  const { camera } = parseInput(cameraQuery, event.queryStringParameters ?? {}, 'query');
  return json(200, { processors: await stopProcessors(ports, camera) });
}

export const handler = apiHandler(main);
