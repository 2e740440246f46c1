import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { processorHealthPorts } from '../../shared/composition/check-processors';
import { logger, metrics } from '../../shared/observability';
import { checkProcessors, type ProcessorHealth } from '../../shared/use-cases/check-processors';
import { recoverProcessors, type Recovery } from '../../shared/use-cases/recover-processors';

/**
 * Every 5 minutes: publishes ProcessorChainStalledSeconds (the largest over the cameras, as found) for its alarm,
 * then repairs what it found: a RUNNING camera whose lease expired gets a new worker run (resuming from its
 * checkpoint), a STOPPING one whose worker died is set STOPPED (shared/use-cases/recover-processors.ts).
 */
const ports = processorHealthPorts();

export async function main(nowMs = Date.now()): Promise<{ health: ProcessorHealth[]; recoveries: Recovery[] }> {
  const health = await checkProcessors(ports.store, ports.cameras, nowMs);
  for (const camera of health) if (camera.stalledSeconds > 0) logger.info('Processor progress', { ...camera });
  metrics.addMetric('ProcessorChainStalledSeconds', MetricUnit.Seconds, Math.max(0, ...health.map((h) => h.stalledSeconds)));

  const recoveries = await recoverProcessors(ports, ports.cameras, nowMs);
  for (const r of recoveries) {
    if (r.action === 'restarted') logger.warn('Processor chain broken (lease expired): a new worker run resumes from the checkpoint', { ...r });
    else if (r.action === 'stopped') logger.info('Processor stop settled: its worker had died', { ...r });
    else if (r.action === 'restart-failed') logger.error('Processor chain broken, and the new worker run could not be invoked; the next check retries', { ...r });
  }
  metrics.addMetric('ProcessorChainsRestarted', MetricUnit.Count, recoveries.filter((r) => r.action === 'restarted').length);
  metrics.publishStoredMetrics();
  return { health, recoveries };
}

export const handler = () => main();
