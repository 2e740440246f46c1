import { RekognitionFaceCollection } from '../adapters/face-collection';
import { S3PhotoStore } from '../adapters/photo-store';
import { DynamoSightingHistory } from '../adapters/sighting-history';
import { DynamoVisitors } from '../adapters/visitor-store';
import { documents } from '../clients/dynamodb';
import { rekognition } from '../clients/rekognition';
import { s3 } from '../clients/s3';
import { env, loadConfig } from '../config';
import type { StaleVisitors, VisitorErasePorts } from '../use-cases/visitors';

/** What a visitor's data is kept in, for DELETE /visitors/{visitorId}, expiry, and the erasure of a person named from visitors. */
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
