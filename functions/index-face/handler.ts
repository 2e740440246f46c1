import type { S3Event, S3EventRecord } from 'aws-lambda';
import { indexerPorts } from '../../shared/composition/indexer';
import { decodeS3EventKey } from '../../shared/domain/photo-key';
import { logger } from '../../shared/observability';
import { handlePhotoEvents, type IndexPhotoPorts, type PhotoEvent } from '../../shared/use-cases/index-photo';

const { ports, bucket: FACES_BUCKET } = indexerPorts();

/** Turns an S3 notification record into a photo event; undefined for records this function does not handle. */
export function toPhotoEvent(record: S3EventRecord): PhotoEvent | undefined {
  const type = record.eventName?.startsWith('ObjectCreated:')
    ? 'created'
    : record.eventName?.startsWith('ObjectRemoved:')
      ? 'removed'
      : undefined;
  if (!type || !record.s3?.object?.key) return undefined;
  const { object, bucket } = record.s3;
  return {
    type,
    bucket: bucket.name,
    key: decodeS3EventKey(object.key),
    ...(typeof object.size === 'number' ? { size: object.size } : {}),
    ...(object.eTag ? { etag: object.eTag } : {}),
    ...(object.versionId ? { versionId: object.versionId } : {}),
    ...(object.sequencer ? { sequencer: object.sequencer } : {}),
  };
}

/** Photo events of this bucket's records; other records are logged and left alone. */
export function photoEventsOf(event: S3Event, bucket: string): PhotoEvent[] {
  const events: PhotoEvent[] = [];
  for (const record of event.Records ?? []) {
    const photoEvent = toPhotoEvent(record);
    if (!photoEvent) logger.warn('Ignoring an S3 record this function does not handle', { eventName: record.eventName });
    else if (photoEvent.bucket !== bucket) logger.warn('Ignoring a record from another bucket', { bucket: photoEvent.bucket, expected: bucket });
    else events.push(photoEvent);
  }
  return events;
}

/**
 * A failure worth retrying (throttling, an outage) fails the invocation once every other record is done, so
 * S3's asynchronous invoke retries it.
 */
export async function main(event: S3Event, deps: IndexPhotoPorts = ports, bucket = FACES_BUCKET) {
  const { processed, failures } = await handlePhotoEvents(photoEventsOf(event, bucket), deps, logger);
  if (failures.length > 0) {
    throw new AggregateError(
      failures.map((f) => f.error),
      `${failures.length} photo event(s) failed (${failures.map((f) => f.key).join(', ')}); ${processed} succeeded and are safe to replay`,
    );
  }
  return { processed };
}

export const handler = (event: S3Event) => main(event);
