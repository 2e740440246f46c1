import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** Structured JSON logs and CloudWatch EMF metrics, one instance per cold start. */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'facewatch' });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'facewatch',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'facewatch',
});
