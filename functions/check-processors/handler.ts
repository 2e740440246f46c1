import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ProcessorStateTable } from '../../shared/adapters/processor-state-table';
import { documents } from '../../shared/clients/dynamodb';
import { env, loadConfig } from '../../shared/config';
import { logger, metrics } from '../../shared/observability';
import { checkProcessors, type ProcessorHealth } from '../../shared/use-cases/check-processors';

/** Every 5 minutes: publishes ProcessorChainStalledSeconds (the largest over the cameras) for its alarm. */
const config = loadConfig({ ...env.cameraResources, PROCESSOR_STATE_TABLE: env.selfProcessor.PROCESSOR_STATE_TABLE });
const store = new ProcessorStateTable(documents, config.PROCESSOR_STATE_TABLE);

export async function main(nowMs = Date.now()): Promise<ProcessorHealth[]> {
  const health = await checkProcessors(store, Object.keys(config.CAMERA_RESOURCES), nowMs);
  for (const camera of health) if (camera.stalledSeconds > 0) logger.info('Processor progress', { ...camera });
  metrics.addMetric('ProcessorChainStalledSeconds', MetricUnit.Seconds, Math.max(0, ...health.map((h) => h.stalledSeconds)));
  metrics.publishStoredMetrics();
  return health;
}

export const handler = () => main();
