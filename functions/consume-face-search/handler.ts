import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { DynamoAlertStateStore } from '../../shared/adapters/alert-state-store';
import { SnsAlertPublisher } from '../../shared/adapters/alert-publisher';
import { DynamoPersonRules } from '../../shared/adapters/person-rules';
import { DynamoSightingStore } from '../../shared/adapters/sighting-store';
import { S3SnapshotLinks } from '../../shared/adapters/snapshot-links';
import { documents } from '../../shared/clients/dynamodb';
import { s3 } from '../../shared/clients/s3';
import { sns } from '../../shared/clients/sns';
import { env, loadConfig } from '../../shared/config';
import { cameraResolver } from '../../shared/domain/sighting';
import { logger, metrics } from '../../shared/observability';
import { alertsRemembered, lastSeenEvery } from '../../shared/use-cases/record-sightings';
import { createFaceSearchConsumer } from './consumer';

const config = loadConfig({
  ...env.sightingsTable,
  ...env.alertStateTable,
  ...env.peopleTable,
  ...env.alertTopic,
  ...env.faceMatchThreshold,
  ...env.alerts,
  ...env.retention,
  ...env.cameraResources,
  ...env.snapshotLinks,
});
const snapshots = config.PROCESSOR_SNAPSHOTS && config.FACES_BUCKET !== undefined;

export const consumeFaceSearch = createFaceSearchConsumer({
  ports: {
    sightings: new DynamoSightingStore(documents, config.SIGHTINGS_TABLE),
    // Frames within the cooldown of an alert this process sent are suppressed without a (billed) refused claim.
    alertState: alertsRemembered(new DynamoAlertStateStore(documents, config.ALERT_STATE_TABLE)),
    // lastSeenAt moves forward at most every 10 s of frame time per person and camera (a third fewer writes).
    people: lastSeenEvery(new DynamoPersonRules(documents, config.PEOPLE_TABLE), 10_000),
    publisher: new SnsAlertPublisher(sns, config.ALERT_TOPIC_ARN),
    logger,
    ...(snapshots ? { snapshotLinks: new S3SnapshotLinks(s3, config.FACES_BUCKET!, config.SNAPSHOT_LINK_SECONDS) } : {}),
  },
  settings: {
    sightings: { faceMatchThreshold: config.FACE_MATCH_THRESHOLD, retentionDays: config.SIGHTING_RETENTION_DAYS },
    alerts: {
      cooldownSeconds: config.ALERT_COOLDOWN_SECONDS,
      unknownAlerts: config.UNKNOWN_ALERTS,
      unknownCooldownSeconds: config.UNKNOWN_ALERT_COOLDOWN_SECONDS,
      watchlistOnly: config.ALERT_WATCHLIST_ONLY,
    },
    cameraOf: cameraResolver(config.CAMERA_RESOURCES),
    snapshots,
    samplingIntervalMs: Math.round(1000 / config.PROCESSOR_SAMPLING_FPS),
  },
  logger,
  metrics,
});

export const handler = middy(consumeFaceSearch).use(injectLambdaContext(logger)).use(logMetrics(metrics));
