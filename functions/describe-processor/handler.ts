import { processorPortFor } from '../../shared/adapters/processors';
import { camerasOf, processorEnv } from '../../shared/adapters/processor-port';
import { rekognition } from '../../shared/clients/rekognition';
import { loadConfig } from '../../shared/config';
import { apiHandler, json, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { cameraQuery } from '../../shared/middleware/params';
import { describeProcessors, type ProcessorPorts } from '../../shared/use-cases/processor';

/** GET /processor[?camera=]: state, last change, settings and streams of the processor(s). */
const config = loadConfig(processorEnv);
const ports: ProcessorPorts = {
  processor: processorPortFor(config.PROCESSOR_MODE, { rekognition }),
  cameras: camerasOf(config.CAMERA_RESOURCES),
};

export async function main(event: ApiEvent) {
  const { camera } = parseInput(cameraQuery, event.queryStringParameters ?? {}, 'query');
  return json(200, { processors: await describeProcessors(ports, camera) });
}

export const handler = apiHandler(main);
