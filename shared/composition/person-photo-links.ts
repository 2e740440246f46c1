import { S3SnapshotLinks } from '../adapters/snapshot-links';
import { s3 } from '../clients/s3';
import { env, loadConfig } from '../config';
import type { PhotoLinks } from '../use-cases/people';

/**
 * GET /people/{personId}: links to the person's photos when the faces bucket is named (FACES_BUCKET,
 * SNAPSHOT_LINK_SECONDS). A module of its own: the other people routes then bundle no S3 client.
 */
export function personPhotoLinks(source: NodeJS.ProcessEnv = process.env): PhotoLinks | undefined {
  const config = loadConfig({ ...env.snapshotLinks }, source);
  return config.FACES_BUCKET ? new S3SnapshotLinks(s3, config.FACES_BUCKET, config.SNAPSHOT_LINK_SECONDS) : undefined;
}
