import { DynamoPeopleRepository } from '../adapters/people-repository';
import { S3PhotoStore } from '../adapters/photo-store';
import { S3UploadLinks } from '../adapters/upload-links';
import { DynamoSightingRecords } from '../adapters/sighting-records';
import { S3SnapshotLinks } from '../adapters/snapshot-links';
import { documents } from '../clients/dynamodb';
import { s3 } from '../clients/s3';
import { env, loadConfig } from '../config';
import type { ReviewPorts } from '../use-cases/sighting-review';
import type { UploadLinks } from '../use-cases/photo-uploads';
import type { PersonWithPhotos } from '../use-cases/people';

/** GET /sightings/{id}: the sightings table and, when the processor keeps snapshots, their links. */
export function sightingLookup(source: NodeJS.ProcessEnv = process.env): Pick<ReviewPorts, 'sightings' | 'snapshotLinks'> {
  const config = loadConfig({ ...env.sightingsTable, ...env.snapshotLinks }, source);
  return {
    sightings: new DynamoSightingRecords(documents, config.SIGHTINGS_TABLE),
    ...(config.PROCESSOR_SNAPSHOTS && config.FACES_BUCKET ? { snapshotLinks: new S3SnapshotLinks(s3, config.FACES_BUCKET, config.SNAPSHOT_LINK_SECONDS) } : {}),
  };
}

/** POST /sightings/{id}/identify and /not-this-person: sightings, people (folder names) and the faces bucket. */
export function sightingReview(source: NodeJS.ProcessEnv = process.env): ReviewPorts {
  const config = loadConfig({ ...env.sightingsTable, ...env.peopleTable, ...env.snapshotLinks, ...env.facesBucket }, source);
  return {
    sightings: new DynamoSightingRecords(documents, config.SIGHTINGS_TABLE),
    people: new DynamoPeopleRepository(documents, config.PEOPLE_TABLE),
    photos: new S3PhotoStore(s3, config.FACES_BUCKET),
    ...(config.PROCESSOR_SNAPSHOTS ? { snapshotLinks: new S3SnapshotLinks(s3, config.FACES_BUCKET, config.SNAPSHOT_LINK_SECONDS) } : {}),
  };
}

/** POST /uploads: the people table (an existing person's folder) and presigned PUTs into faces/. */
export function photoUploads(source: NodeJS.ProcessEnv = process.env): { people: { getPerson(personId: string): Promise<PersonWithPhotos> }; links: UploadLinks } {
  const config = loadConfig({ ...env.peopleTable, ...env.facesBucket }, source);
  return { people: new DynamoPeopleRepository(documents, config.PEOPLE_TABLE), links: new S3UploadLinks(s3, config.FACES_BUCKET) };
}
