import { documents } from '../clients/dynamodb';
import { lambda } from '../clients/lambda';
import { rekognition } from '../clients/rekognition';
import { env, loadConfig } from '../config';
import { LambdaWorkerInvoker } from '../adapters/lambda-worker-invoker';
import { ManagedProcessor } from '../adapters/managed-processor';
import { ProcessorStateTable } from '../adapters/processor-state-table';
import { SelfProcessor } from '../adapters/self-processor';
import { camerasOf } from '../domain/camera';
import type { ProcessorPort, ProcessorPorts } from '../use-cases/processor';

/**
 * Wiring of the processor routes (start, stop, describe): the cameras and the processor port of the configured
 * mode, from the environment. `self` (our own frame sampler) and `managed` (Rekognition's stream processors) sit
 * behind the same port, so the handlers do not change. Throws ConfigError naming what is missing.
 */
export function processorRoutePorts(source: NodeJS.ProcessEnv = process.env): ProcessorPorts {
  const config = loadConfig({ ...env.cameraResources, ...env.processorMode }, source);
  return { processor: processorPort(config.PROCESSOR_MODE, source), cameras: camerasOf(config.CAMERA_RESOURCES) };
}

function processorPort(mode: 'managed' | 'self', source: NodeJS.ProcessEnv): ProcessorPort {
  if (mode === 'managed') return new ManagedProcessor(rekognition);
  const config = loadConfig({ ...env.selfProcessor, ...env.processorSettings }, source);
  return new SelfProcessor(new ProcessorStateTable(documents, config.PROCESSOR_STATE_TABLE), new LambdaWorkerInvoker(lambda, config.PROCESS_VIDEO_FUNCTION), {
    collectionId: config.COLLECTION_ID,
    faceMatchThreshold: config.FACE_MATCH_THRESHOLD,
  });
}
