import type { RekognitionClient } from '@aws-sdk/client-rekognition';
import { documents } from '../clients/dynamodb';
import { lambda } from '../clients/lambda';
import { rekognition } from '../clients/rekognition';
import { loadConfig } from '../config';
import type { ProcessorPorts } from '../use-cases/processor';
import { ManagedProcessor } from './managed-processor';
import { camerasOf, processorEnv, type ProcessorMode, type ProcessorPort } from './processor-port';
import { selfProcessorFromEnv } from './self-processor';

/**
 * The processor implementation for a mode. `self` (our own frame sampler) plugs in here, behind the same port,
 * so the API handlers do not change.
 */
export function processorPortFor(mode: ProcessorMode, deps: { rekognition: RekognitionClient }): ProcessorPort {
  switch (mode) {
    case 'managed':
      return new ManagedProcessor(deps.rekognition);
    case 'self':
      return selfProcessorFromEnv({ documents, lambda });
  }
}

/** The ports of the processor routes, from the environment (parsed once per cold start). */
export function processorPortsFromEnv(): ProcessorPorts {
  const config = loadConfig(processorEnv);
  return { processor: processorPortFor(config.PROCESSOR_MODE, { rekognition }), cameras: camerasOf(config.CAMERA_RESOURCES) };
}
