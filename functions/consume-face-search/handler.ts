import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { consumerWiring } from '../../shared/composition/consumer';
import { logger, metrics } from '../../shared/observability';
import { createFaceSearchConsumer } from './consumer';

export const consumeFaceSearch = createFaceSearchConsumer({ ...consumerWiring(logger), logger, metrics });

export const handler = middy(consumeFaceSearch).use(injectLambdaContext(logger)).use(logMetrics(metrics));
