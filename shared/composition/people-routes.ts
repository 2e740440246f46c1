import { DynamoPeopleRepository } from '../adapters/people-repository';
import { documents } from '../clients/dynamodb';
import { env, loadConfig } from '../config';
import { S3SnapshotLinks } from '../adapters/snapshot-links';
import { s3 } from '../clients/s3';
import type { PeopleDirectory, PhotoLinks } from '../use-cases/people';

/** GET /people, GET and PATCH /people/{personId}: the people table, from PEOPLE_TABLE. */
export function peopleDirectory(source: NodeJS.ProcessEnv = process.env): PeopleDirectory {
  return new DynamoPeopleRepository(documents, loadConfig(env.peopleTable, source).PEOPLE_TABLE);
}

/** GET /people/{personId}: links to the person's photos when the faces bucket is named (FACES_BUCKET, SNAPSHOT_LINK_SECONDS). */
export function personPhotoLinks(source: NodeJS.ProcessEnv = process.env): PhotoLinks | undefined {
  const config = loadConfig({ ...env.snapshotLinks }, source);
  return config.FACES_BUCKET ? new S3SnapshotLinks(s3, config.FACES_BUCKET, config.SNAPSHOT_LINK_SECONDS) : undefined;
}
