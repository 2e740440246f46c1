import { RekognitionFaceCollection } from '../../shared/adapters/face-collection';
import { DynamoPeopleRepository } from '../../shared/adapters/people-repository';
import { S3PhotoStore } from '../../shared/adapters/photo-store';
import { DynamoSightingHistory } from '../../shared/adapters/sighting-history';
import { documents } from '../../shared/clients/dynamodb';
import { rekognition } from '../../shared/clients/rekognition';
import { s3 } from '../../shared/clients/s3';
import { env, loadConfig } from '../../shared/config';
import { apiHandler, json, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { personIdParam } from '../../shared/middleware/params';
import { erasePerson, type ErasePorts } from '../../shared/use-cases/people';

/** DELETE /people/{personId}: erases the person's faces, photos, sightings, alert state and records. */
const config = loadConfig({
  ...env.peopleTable,
  ...env.sightingsTable,
  ...env.alertStateTable,
  ...env.facesBucket,
  ...env.collection,
  ...env.cameraResources,
});
const ports: ErasePorts = {
  people: new DynamoPeopleRepository(documents, config.PEOPLE_TABLE),
  faces: new RekognitionFaceCollection(rekognition, config.COLLECTION_ID),
  photos: new S3PhotoStore(s3, config.FACES_BUCKET),
  sightings: new DynamoSightingHistory(documents, config.SIGHTINGS_TABLE, config.ALERT_STATE_TABLE),
  cameras: Object.keys(config.CAMERA_RESOURCES),
};

export async function main(event: ApiEvent) {
  const { personId } = parseInput(personIdParam, event.pathParameters ?? {}, 'path');
  return json(200, await erasePerson(ports, personId));
}

export const handler = apiHandler(main);
