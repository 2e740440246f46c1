import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { processorHealthPorts } from '../../shared/composition/check-processors';
import { logger, metrics } from '../../shared/observability';
import { checkProcessors, type ProcessorHealth } from '../../shared/use-cases/check-processors';

/** Every 5 minutes: publishes ProcessorChainStalledSeconds (the largest over the cameras) for its alarm. */
const { store, cameras } = processorHealthPorts();

export async function main(nowMs = Date.now()): Promise<ProcessorHealth[]> {
  const health = await checkProcessors(store, cameras, nowMs);
  for (const camera of health) if (camera.stalledSeconds > 0) logger.info('Processor progress', { ...camera });
  metrics.addMetric('ProcessorChainStalledSeconds', MetricUnit.Seconds, Math.max(0, ...health.map((h) => h.stalledSeconds)));
  metrics.publishStoredMetrics();
  return health;
}

export const handler = () => main();
