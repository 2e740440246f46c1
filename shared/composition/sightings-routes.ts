import { DynamoSightingHistory } from '../adapters/sighting-history';
import { S3SnapshotLinks } from '../adapters/snapshot-links';
import { documents } from '../clients/dynamodb';
import { s3 } from '../clients/s3';
import { env, loadConfig } from '../config';
import type { SightingHistory } from '../use-cases/sightings';
import type { SnapshotLinks } from '../use-cases/record-sightings';

/** GET /sightings: the sightings table, the retention, and snapshot links when the processor keeps snapshots. */
export function sightingsRoute(source: NodeJS.ProcessEnv = process.env): { history: SightingHistory; retentionDays: number; snapshotLinks?: SnapshotLinks } {
  const config = loadConfig({ ...env.sightingsTable, ...env.retention, ...env.snapshotLinks }, source);
  return {
    history: new DynamoSightingHistory(documents, config.SIGHTINGS_TABLE),
    retentionDays: config.SIGHTING_RETENTION_DAYS,
    ...(config.PROCESSOR_SNAPSHOTS && config.FACES_BUCKET ? { snapshotLinks: new S3SnapshotLinks(s3, config.FACES_BUCKET, config.SNAPSHOT_LINK_SECONDS) } : {}),
  };
}
