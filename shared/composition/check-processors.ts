import { randomUUID } from 'node:crypto';
import { LambdaWorkerInvoker } from '../adapters/lambda-worker-invoker';
import { ProcessorStateTable } from '../adapters/processor-state-table';
import { documents } from '../clients/dynamodb';
import { lambda } from '../clients/lambda';
import { env, loadConfig } from '../config';
import type { RecoveryPorts } from '../use-cases/recover-processors';

/** checkProcessors: the processor-state table, the cameras, and the worker to invoke when a camera's chain broke. */
export function processorHealthPorts(source: NodeJS.ProcessEnv = process.env): RecoveryPorts & { cameras: string[] } {
  const config = loadConfig({ ...env.cameraResources, ...env.selfProcessor }, source);
  return {
    store: new ProcessorStateTable(documents, config.PROCESSOR_STATE_TABLE),
    invoker: new LambdaWorkerInvoker(lambda, config.PROCESS_VIDEO_FUNCTION),
    newToken: randomUUID,
    cameras: Object.keys(config.CAMERA_RESOURCES),
  };
}
