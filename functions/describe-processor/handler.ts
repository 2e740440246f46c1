import { processorRoutePorts } from '../../shared/composition/processor-routes';
import { apiHandler, json, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { cameraQuery } from '../../shared/middleware/params';
import { describeProcessors } from '../../shared/use-cases/processor';

/** GET /processor[?camera=]: state, last change, settings and streams of the processor(s). */
const ports = processorRoutePorts();

export async function main(event: ApiEvent) {
  const { camera } = parseInput(cameraQuery, event.queryStringParameters ?? {}, 'query');
  return json(200, { processors: await describeProcessors(ports, camera) });
}

export const handler = apiHandler(main);
