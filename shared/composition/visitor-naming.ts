import { RekognitionFaceCollection } from '../adapters/face-collection';
import { DynamoPeopleRepository } from '../adapters/people-repository';
import { S3PhotoStore } from '../adapters/photo-store';
import { DynamoSightingHistory } from '../adapters/sighting-history';
import { DynamoVisitors } from '../adapters/visitor-store';
import { documents } from '../clients/dynamodb';
import { rekognition } from '../clients/rekognition';
import { s3 } from '../clients/s3';
import { env, loadConfig } from '../config';
import type { NamePorts } from '../use-cases/visitors';

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
