import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { expiryPorts } from '../../shared/composition/visitor-erasure';
import { logger, metrics } from '../../shared/observability';
import { expireVisitors } from '../../shared/use-cases/visitors';

/** Daily: erases the visitors not seen for sightingRetentionDays (faces in the visitors collection included). */
const { ports, retentionDays } = expiryPorts();

export async function main(now = new Date()) {
  const outcome = await expireVisitors(ports, now, retentionDays);
  if (outcome.expired) logger.info('Visitors expired', { ...outcome, retentionDays });
  metrics.addMetric('VisitorsExpired', MetricUnit.Count, outcome.expired);
  metrics.publishStoredMetrics();
  return outcome;
}

export const handler = () => main();
