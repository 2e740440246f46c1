import { DynamoAlertStateStore } from '../adapters/alert-state-store';
import { SnsAlertPublisher } from '../adapters/alert-publisher';
import { DynamoPersonRules } from '../adapters/person-rules';
import { DynamoSightingStore } from '../adapters/sighting-store';
import { S3SnapshotLinks } from '../adapters/snapshot-links';
import { DynamoVisitors } from '../adapters/visitor-store';
import { documents } from '../clients/dynamodb';
import { s3 } from '../clients/s3';
import { sns } from '../clients/sns';
import { env, loadConfig } from '../config';
import { cameraResolver } from '../domain/sighting';
import { alertsRemembered, lastSeenEvery, visitorsEvery, type RecordSightingsPorts, type RecordSightingsSettings } from '../use-cases/record-sightings';

/** consumeFaceSearch: its stores, publisher and settings, from the function's environment. */
export function consumerWiring(
  logger: RecordSightingsPorts['logger'],
  source: NodeJS.ProcessEnv = process.env,
): { ports: RecordSightingsPorts; settings: RecordSightingsSettings } {
  const config = loadConfig(
    {
      ...env.sightingsTable,
      ...env.alertStateTable,
      ...env.peopleTable,
      ...env.alertTopic,
      ...env.faceMatchThreshold,
      ...env.alerts,
      ...env.retention,
      ...env.cameraResources,
      ...env.snapshotLinks,
      ...env.console,
      ...env.optionalVisitors,
      ...env.visitGap,
    },
    source,
  );
  const snapshots = config.PROCESSOR_SNAPSHOTS && config.FACES_BUCKET !== undefined;
  return {
    ports: {
      sightings: new DynamoSightingStore(documents, config.SIGHTINGS_TABLE),
      // Frames within the cooldown of an alert this process sent are suppressed without a (billed) refused claim.
      alertState: alertsRemembered(new DynamoAlertStateStore(documents, config.ALERT_STATE_TABLE)),
      // lastSeenAt moves forward at most every 10 s of frame time per person and camera (a third fewer writes).
      people: lastSeenEvery(new DynamoPersonRules(documents, config.PEOPLE_TABLE), 10_000),
      publisher: new SnsAlertPublisher(sns, config.ALERT_TOPIC_ARN),
      logger,
      ...(snapshots ? { snapshotLinks: new S3SnapshotLinks(s3, config.FACES_BUCKET!, config.SNAPSHOT_LINK_SECONDS) } : {}),
      // Recurring visitors: lastSeenAt at most every 10 s per visitor and camera, snapshots only when better.
      ...(config.VISITORS_TABLE ? { visitors: visitorsEvery(new DynamoVisitors(documents, config.VISITORS_TABLE), 10_000) } : {}),
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
      consoleUrl: config.CONSOLE_URL,
      visitGapSeconds: config.VISIT_GAP_SECONDS,
    },
  };
}
