import { RekognitionFaceCollection } from '../adapters/face-collection';
import { DynamoPeopleRepository } from '../adapters/people-repository';
import { S3PhotoStore } from '../adapters/photo-store';
import { DynamoSightingHistory } from '../adapters/sighting-history';
import { S3SnapshotLinks } from '../adapters/snapshot-links';
import { DynamoVisitors } from '../adapters/visitor-store';
import { documents } from '../clients/dynamodb';
import { rekognition } from '../clients/rekognition';
import { s3 } from '../clients/s3';
import { env, loadConfig } from '../config';
import type { SnapshotLinks } from '../use-cases/record-sightings';
import type { NamePorts, StaleVisitors, VisitorDirectory, VisitorErasePorts } from '../use-cases/visitors';

/** GET /visitors and GET /visitors/{visitorId}: the visitors table, and links to the best snapshots when there are snapshots. */
export function visitorsRoute(source: NodeJS.ProcessEnv = process.env): { visitors: VisitorDirectory; snapshotLinks?: SnapshotLinks } {
  const config = loadConfig({ ...env.visitorsTable, ...env.snapshotLinks }, source);
  return {
    visitors: new DynamoVisitors(documents, config.VISITORS_TABLE),
    ...(config.PROCESSOR_SNAPSHOTS && config.FACES_BUCKET ? { snapshotLinks: new S3SnapshotLinks(s3, config.FACES_BUCKET, config.SNAPSHOT_LINK_SECONDS) } : {}),
  };
}

/** POST /visitors/{visitorId}/name: the visitor, its faces and sightings, the faces bucket and the people table. */
export function namePorts(source: NodeJS.ProcessEnv = process.env): NamePorts {
  const config = loadConfig({ ...env.visitorsTable, ...env.visitorCollection, ...env.sightingsTable, ...env.peopleTable, ...env.facesBucket }, source);
  return {
    visitors: new DynamoVisitors(documents, config.VISITORS_TABLE),
    faces: new RekognitionFaceCollection(rekognition, config.VISITOR_COLLECTION_ID),
    photos: new S3PhotoStore(s3, config.FACES_BUCKET),
    sightings: new DynamoSightingHistory(documents, config.SIGHTINGS_TABLE),
    people: new DynamoPeopleRepository(documents, config.PEOPLE_TABLE),
  };
}

/** What a visitor's data is kept in, for DELETE /visitors/{visitorId} and for the erasure of a person named from visitors. */
export function visitorErasePorts(config: { VISITORS_TABLE: string; VISITOR_COLLECTION_ID: string; SIGHTINGS_TABLE: string; FACES_BUCKET: string }): VisitorErasePorts {
  return {
    visitors: new DynamoVisitors(documents, config.VISITORS_TABLE),
    faces: new RekognitionFaceCollection(rekognition, config.VISITOR_COLLECTION_ID),
    sightings: new DynamoSightingHistory(documents, config.SIGHTINGS_TABLE),
    snapshots: new S3PhotoStore(s3, config.FACES_BUCKET),
  };
}

/** DELETE /visitors/{visitorId}, from the function's environment. */
export function eraseVisitorPorts(source: NodeJS.ProcessEnv = process.env): VisitorErasePorts {
  return visitorErasePorts(loadConfig({ ...env.visitorsTable, ...env.visitorCollection, ...env.sightingsTable, ...env.facesBucket }, source));
}

/** expireVisitors (daily): the visitors' data, and how long sightings are kept. */
export function expiryPorts(source: NodeJS.ProcessEnv = process.env): { ports: VisitorErasePorts & { stale: StaleVisitors }; retentionDays: number } {
  const config = loadConfig({ ...env.visitorsTable, ...env.visitorCollection, ...env.sightingsTable, ...env.facesBucket, ...env.retention }, source);
  return { ports: { ...visitorErasePorts(config), stale: new DynamoVisitors(documents, config.VISITORS_TABLE) }, retentionDays: config.SIGHTING_RETENTION_DAYS };
}
