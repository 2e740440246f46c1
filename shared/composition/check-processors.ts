import { ProcessorStateTable } from '../adapters/processor-state-table';
import { documents } from '../clients/dynamodb';
import { env, loadConfig } from '../config';
import type { ProcessorStateStore } from '../use-cases/run-processor-worker';

/** checkProcessors: the processor-state table and the cameras. */
export function processorHealthPorts(source: NodeJS.ProcessEnv = process.env): { store: Pick<ProcessorStateStore, 'get'>; cameras: string[] } {
  const config = loadConfig({ ...env.cameraResources, PROCESSOR_STATE_TABLE: env.selfProcessor.PROCESSOR_STATE_TABLE }, source);
  return { store: new ProcessorStateTable(documents, config.PROCESSOR_STATE_TABLE), cameras: Object.keys(config.CAMERA_RESOURCES) };
}
