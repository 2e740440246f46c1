import { processorPortFor } from '../../shared/adapters/processors';
import { camerasOf, processorEnv } from '../../shared/adapters/processor-port';
import { rekognition } from '../../shared/clients/rekognition';
import { loadConfig } from '../../shared/config';
import { apiHandler, json, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { cameraQuery } from '../../shared/middleware/params';
import { startProcessors, type ProcessorPorts } from '../../shared/use-cases/processor';

/** POST /processor/start[?camera=]: starts the face-search processor of one camera, or of every camera. */
const config = loadConfig(processorEnv);
const ports: ProcessorPorts = {
  processor: processorPortFor(config.PROCESSOR_MODE, { rekognition }),
  cameras: camerasOf(config.CAMERA_RESOURCES),
};

export async function main(event: ApiEvent) {
  const { camera } = parseInput(cameraQuery, event.queryStringParameters ?? {}, 'query');
  return json(200, { processors: await startProcessors(ports, camera) });
}

export const handler = apiHandler(main);
