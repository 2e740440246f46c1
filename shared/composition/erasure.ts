import { RekognitionFaceCollection } from '../adapters/face-collection';
import { DynamoPeopleRepository } from '../adapters/people-repository';
import { S3PhotoStore } from '../adapters/photo-store';
import { DynamoSightingHistory } from '../adapters/sighting-history';
import { documents } from '../clients/dynamodb';
import { rekognition } from '../clients/rekognition';
import { s3 } from '../clients/s3';
import { env, loadConfig } from '../config';
import type { ErasePorts } from '../use-cases/people';
import { visitorErasePorts } from './visitor-erasure';

/** DELETE /people/{personId}: everything a person's data is kept in, from the function's environment. */
export function erasePorts(source: NodeJS.ProcessEnv = process.env): ErasePorts {
  const config = loadConfig(
    { ...env.peopleTable, ...env.sightingsTable, ...env.alertStateTable, ...env.facesBucket, ...env.collection, ...env.cameraResources, ...env.optionalVisitors },
    source,
  );
  const { VISITORS_TABLE, VISITOR_COLLECTION_ID } = config;
  return {
    people: new DynamoPeopleRepository(documents, config.PEOPLE_TABLE),
    faces: new RekognitionFaceCollection(rekognition, config.COLLECTION_ID),
    photos: new S3PhotoStore(s3, config.FACES_BUCKET),
    sightings: new DynamoSightingHistory(documents, config.SIGHTINGS_TABLE, config.ALERT_STATE_TABLE),
    cameras: Object.keys(config.CAMERA_RESOURCES),
    // Visitors named as the person, when the deployment has visitors.
    ...(VISITORS_TABLE && VISITOR_COLLECTION_ID ? { visitors: visitorErasePorts({ ...config, VISITORS_TABLE, VISITOR_COLLECTION_ID }) } : {}),
  };
}
