import { z } from 'zod';
import { DynamoSightingHistory } from '../../shared/adapters/sighting-history';
import { S3SnapshotLinks } from '../../shared/adapters/snapshot-links';
import { documents } from '../../shared/clients/dynamodb';
import { s3 } from '../../shared/clients/s3';
import { env, loadConfig } from '../../shared/config';
import { isPersonId } from '../../shared/domain/person-id';
import { UNKNOWN_PERSON } from '../../shared/tables';
import { apiHandler, json, parseInput, type ApiEvent } from '../../shared/middleware/http';
import { cameraName, cursorParam } from '../../shared/middleware/params';
import { listSightings } from '../../shared/use-cases/sightings';

/** GET /sightings: newest first, filtered by person and/or camera and time, paginated with an opaque cursor. */
const config = loadConfig({ ...env.sightingsTable, ...env.retention, ...env.snapshotLinks });
const history = new DynamoSightingHistory(documents, config.SIGHTINGS_TABLE);
const snapshotLinks = config.PROCESSOR_SNAPSHOTS && config.FACES_BUCKET ? new S3SnapshotLinks(s3, config.FACES_BUCKET, config.SNAPSHOT_LINK_SECONDS) : undefined;

const isoTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time, e.g. 2025-01-31T18:00:00Z' }).transform((v) => new Date(v));

const query = z.object({
  personId: z
    .string()
    .refine((v) => v === UNKNOWN_PERSON || isPersonId(v), `is not a person id (or ${UNKNOWN_PERSON} for unmatched faces)`)
    .optional(),
  camera: cameraName.optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: cursorParam.optional(),
});

export async function main(event: ApiEvent) {
  const filters = parseInput(query, event.queryStringParameters ?? {}, 'query');
  return json(200, await listSightings(history, filters, new Date(), config.SIGHTING_RETENTION_DAYS, snapshotLinks));
}

export const handler = apiHandler(main);
