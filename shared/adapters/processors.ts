import type { RekognitionClient } from '@aws-sdk/client-rekognition';
import { ManagedProcessor } from './managed-processor';
import type { ProcessorMode, ProcessorPort } from './processor-port';
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
      // Clients are created only in this mode (module-level, once per cold start).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return selfProcessorFromEnv({ documents: require('../clients/dynamodb').documents, lambda: require('../clients/lambda').lambda });
  }
}
