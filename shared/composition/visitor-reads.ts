import { S3SnapshotLinks } from '../adapters/snapshot-links';
import { DynamoVisitors } from '../adapters/visitor-store';
import { documents } from '../clients/dynamodb';
import { s3 } from '../clients/s3';
import { env, loadConfig } from '../config';
import type { SnapshotLinks } from '../use-cases/record-sightings';
import type { VisitorDirectory } from '../use-cases/visitors';

/** GET /visitors and GET /visitors/{visitorId}: the visitors table, and links to the best snapshots when there are snapshots. */
export function visitorsRoute(source: NodeJS.ProcessEnv = process.env): { visitors: VisitorDirectory; snapshotLinks?: SnapshotLinks } {
  const config = loadConfig({ ...env.visitorsTable, ...env.snapshotLinks }, source);
  return {
    visitors: new DynamoVisitors(documents, config.VISITORS_TABLE),
    ...(config.PROCESSOR_SNAPSHOTS && config.FACES_BUCKET ? { snapshotLinks: new S3SnapshotLinks(s3, config.FACES_BUCKET, config.SNAPSHOT_LINK_SECONDS) } : {}),
  };
}
