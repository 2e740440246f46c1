import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { decodeFaceSearchRecord, type FaceSearchRecord } from '../../shared/domain/face-search-record';
import { PermanentInputError } from '../../shared/errors';
import {
  profilesOnce,
  recordSightings,
  type RecordSightingsPorts,
  type RecordSightingsSettings,
} from '../../shared/use-cases/record-sightings';

export interface FaceSearchConsumerDeps {
  ports: RecordSightingsPorts;
  settings: RecordSightingsSettings;
  logger: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  metrics: Pick<Metrics, 'addMetric'>;
}

/** Thrown for records after a failed one: they wait for the retry that resumes from the failed record. */
class DeferredRecordError extends Error {
  override readonly name = 'DeferredRecordError';
}

/**
 * The Kinesis batch as Lambda delivers it → partial batch response.
 * - Records run one at a time, in shard order.
 * - A record that can never succeed (not base64, not JSON, not a face-search record) is logged, counted
 *   (PoisonRecords) and acknowledged, so it never blocks the shard.
 * - Any other failure (DynamoDB, SNS) fails that record and every later one in the batch: Lambda resumes
 *   from the lowest failed sequence number, and nothing after it has been half-done out of order.
 */
export function createFaceSearchConsumer(deps: FaceSearchConsumerDeps) {
  const { logger, metrics } = deps;

  return async (event: KinesisStreamEvent, context?: Context): Promise<KinesisStreamBatchResponse> => {
    const profileOf = profilesOnce(deps.ports.people);
    let failedAt: string | undefined;

    const handleRecord = async (record: KinesisStreamRecord): Promise<void> => {
      const sequenceNumber = record.kinesis.sequenceNumber;
      if (failedAt !== undefined) throw new DeferredRecordError(`waits for the retry from ${failedAt}`);

      let faceSearch: FaceSearchRecord;
      try {
        faceSearch = decodeFaceSearchRecord(record.kinesis.data);
      } catch (error) {
        if (!(error instanceof PermanentInputError)) throw error;
        logger.warn('Skipping a record that is not a face-search record', {
          sequenceNumber,
          partitionKey: record.kinesis.partitionKey,
          eventSourceARN: record.eventSourceARN,
          reason: error.message,
        });
        metrics.addMetric('PoisonRecords', MetricUnit.Count, 1);
        return;
      }

      const lagSeconds = record.kinesis.approximateArrivalTimestamp - faceSearch.InputInformation.KinesisVideo.ServerTimestamp;
      metrics.addMetric('ProcessorLagSeconds', MetricUnit.Seconds, Math.max(0, lagSeconds));

      try {
        const outcome = await recordSightings(faceSearch, deps.ports, deps.settings, profileOf);
        let sent = 0;
        let suppressed = 0;
        for (const alert of outcome.alerts) {
          if (alert.result === 'sent' || alert.result === 'resent') sent += 1;
          else if (alert.result === 'suppressed') suppressed += 1;
        }
        if (outcome.created) metrics.addMetric('Sightings', MetricUnit.Count, outcome.created);
        if (sent) metrics.addMetric('AlertsSent', MetricUnit.Count, sent);
        if (suppressed) metrics.addMetric('AlertsSuppressed', MetricUnit.Count, suppressed);
        if (outcome.sightings.length) {
          logger.info('Recorded sightings', {
            sequenceNumber,
            camera: outcome.camera,
            created: outcome.created,
            redelivered: outcome.sightings.length - outcome.created,
            alerts: outcome.alerts,
          });
        }
      } catch (error) {
        failedAt = sequenceNumber;
        logger.error('Record failed; Lambda retries from it', { sequenceNumber, eventSourceARN: record.eventSourceARN, error: error as Error });
        throw error;
      }
    };

    const processor = new BatchProcessor(EventType.KinesisDataStreams);
    // Sequential: shard order is the order sightings and alert windows must see.
    return processPartialResponse(event, handleRecord, processor, { context, processInParallel: false });
  };
}
