import { RekognitionFaceCollection } from '../adapters/face-collection';
import { DynamoPeopleRepository } from '../adapters/people-repository';
import { S3PhotoStore } from '../adapters/photo-store';
import { documents } from '../clients/dynamodb';
import { rekognition } from '../clients/rekognition';
import { s3 } from '../clients/s3';
import { env, loadConfig } from '../config';
import type { IndexPhotoPorts } from '../use-cases/index-photo';

/** indexFace: the people table, the collection and the faces bucket, from the function's environment. */
export function indexerPorts(source: NodeJS.ProcessEnv = process.env): { ports: IndexPhotoPorts; bucket: string } {
  const config = loadConfig({ ...env.peopleTable, ...env.collection, ...env.facesBucket }, source);
  return {
    bucket: config.FACES_BUCKET,
    ports: {
      people: new DynamoPeopleRepository(documents, config.PEOPLE_TABLE),
      faces: new RekognitionFaceCollection(rekognition, config.COLLECTION_ID),
      photos: new S3PhotoStore(s3, config.FACES_BUCKET),
      now: () => new Date(),
    },
  };
}
