import { buildAlertMessage, type AlertMessage } from '../domain/alert-message';
import { decideAlert, type AlertClaim, type AlertDecision, type AlertSettings, type ClaimOutcome } from '../domain/alert-policy';
import type { FaceSearchRecord } from '../domain/face-search-record';
import { alertStateKey, type AlertRules, type Sighting } from '../domain/model';
import { frameTimeMs, sightingsFromRecord, type SightingSettings } from '../domain/sighting';
import { keepsSnapshot, snapshotKeyOf } from '../domain/snapshot-key';
import { DEFAULT_VISIT_GAP_SECONDS, snapshotScore } from '../domain/visitor';
import { UNKNOWN_PERSON } from '../tables';

/** The sightings table, as the consumer writes it. */
export interface SightingStore {
  /** Writes the sighting unless one with its id exists: 'exists' means a redelivery, nothing was written. */
  putIfAbsent(sighting: Sighting): Promise<'created' | 'exists'>;
}

/** The alert-state table: one item per `<personId>#<camera>` holding the window of its last alert. */
export interface AlertStateStore {
  /** Atomically takes the alert window for this sighting (rule: evaluateClaim in shared/domain/alert-policy.ts). */
  claim(claim: AlertClaim): Promise<ClaimOutcome>;
  /**
   * Just before Publish: pending → sending (conditional on this sighting's pending claim). Answers false when
   * the claim is no longer this sighting's pending one (then nothing is published).
   */
  markSending(claim: AlertClaim): Promise<boolean>;
  /** After a Publish that failed with an answer (not published): sending → pending, so a retry publishes. */
  releaseSending(claim: AlertClaim): Promise<void>;
  /** Records that the claimed alert went out; a no-op if another sighting has claimed since. */
  markSent(claim: AlertClaim, messageId: string): Promise<void>;
}

export interface PersonAlertProfile {
  displayName: string;
  rules: AlertRules;
}

/**
 * What the consumer needs from the people table. It reads profiles and moves their last-seen fields forward;
 * every other write to the table belongs to the indexer and the API.
 */
export interface PersonRules {
  /** undefined when the person has no profile. */
  get(personId: string): Promise<PersonAlertProfile | undefined>;
  /** Sets lastSeenAt/lastSeenCamera if the profile exists and `seenAt` is later than what it holds. */
  recordLastSeen(personId: string, seenAt: string, camera: string): Promise<void>;
}

/** The visitors table, as the consumer keeps it (recurring unknown visitors, docs/visitors.md). */
export interface VisitorLog {
  /**
   * The first frame of a visit (the processor's VisitStart): creates the visitor when new; otherwise counts a visit
   * only if the visitor was last seen before `seenAt` minus the visit gap ('same-visit': a continued visit or a
   * redelivery, nothing written).
   */
  startVisit(visit: { visitorId: string; seenAt: string; camera: string; gapSeconds: number; faceId?: string }): Promise<'counted' | 'same-visit'>;
  /** Moves lastSeenAt / lastSeenCamera forward; never creates a visitor (one named or erased stays gone). */
  seen(visitorId: string, seenAt: string, camera: string): Promise<void>;
  /** Makes this the visitor's best snapshot if it scores higher (shared/domain/visitor.ts); never creates a visitor. */
  offerSnapshot(visitorId: string, snapshotKey: string, score: number): Promise<void>;
}

/** Where alerts go. */
export interface AlertPublisher {
  /** Publishes the alert; answers the message id. Throws when it may not have been delivered (the caller retries). */
  publish(message: AlertMessage): Promise<string>;
}

/** Links to face snapshots (snapshots/<camera>/<sightingId>.jpg in the faces bucket) for people to open. */
export interface SnapshotLinks {
  /** A URL that reads the object without credentials until it expires. */
  urlFor(key: string): Promise<string>;
  /** Whether the snapshot was kept (the processor keeps one for every face it searches, beside its 1-a-second ones). */
  exists(key: string): Promise<boolean>;
  /** How long a URL works, in seconds. */
  readonly lifetimeSeconds: number;
}

export interface RecordSightingsPorts {
  sightings: SightingStore;
  alertState: AlertStateStore;
  people: PersonRules;
  publisher: AlertPublisher;
  logger: { warn(message: string, attributes: Record<string, unknown>): void };
  /** With settings.snapshots: presigned links to put in the email alerts. */
  snapshotLinks?: SnapshotLinks;
  /** The visitors table, when the deployment has visitors: sightings of recurring unknown visitors update it. */
  visitors?: VisitorLog;
}

export interface RecordSightingsSettings {
  sightings: SightingSettings;
  alerts: AlertSettings;
  /** Video stream ARN → camera name. */
  cameraOf(streamArn: string): string;
  /**
   * The processor keeps snapshots (self mode): link the sightings of the frames that keep one (keepsSnapshot, at
   * this sampling interval), and give an alert the snapshot of its own frame when the processor kept it.
   */
  snapshots?: boolean;
  /** The operator console (ends with /console/): email alerts link the sighting's page there. */
  consoleUrl?: string;
  /** The processor's sampling interval (1000 / processorSamplingFps). Default 200 ms. */
  samplingIntervalMs?: number;
  /** A visitor not seen for this long starts a new visit (the processor's setting too). Default DEFAULT_VISIT_GAP_SECONDS. */
  visitGapSeconds?: number;
}

export type AlertOutcome =
  | { sightingId: string; personId: string; result: 'sent' | 'resent'; messageId: string }
  | { sightingId: string; personId: string; result: 'suppressed' }
  | { sightingId: string; personId: string; result: 'not-alerted'; reason: Extract<AlertDecision, { alert: false }>['reason'] };

export interface RecordOutcome {
  camera: string;
  sightings: Sighting[];
  /** Sightings written now (the others were already there: a redelivery). */
  created: number;
  alerts: AlertOutcome[];
}

/**
 * Last-seen updates at most every `intervalMs` of frame time per person and camera (per consumer process): a
 * face in view writes a sighting five times a second, and moving lastSeenAt forward each time was a third of the
 * camera's DynamoDB writes. lastSeenAt then lags the latest sighting by less than `intervalMs`.
 */
export function lastSeenEvery(people: PersonRules, intervalMs: number): PersonRules {
  const written = new Map<string, number>();
  return {
    get: (personId) => people.get(personId),
    async recordLastSeen(personId, seenAt, camera) {
      const key = `${personId}#${camera}`;
      const at = Date.parse(seenAt);
      const last = written.get(key);
      if (last !== undefined && at - last < intervalMs) return; // older frames, and newer ones within the interval
      await people.recordLastSeen(personId, seenAt, camera);
      written.set(key, Math.max(at, last ?? at));
    },
  };
}

/** The per-process memories below forget everything past this many entries (a consumer runs for hours, not weeks). */
const MEMORY_ENTRIES = 10_000;

/**
 * The visitors table written cheaply, per consumer process: lastSeenAt moves at most every `intervalMs` of frame
 * time per visitor and camera (a visitor in view writes a sighting five times a second), and a snapshot is offered
 * only when it beats the best this process has offered or seen refused. Visit starts always go through.
 */
export function visitorsEvery(visitors: VisitorLog, intervalMs: number): VisitorLog {
  const written = new Map<string, number>();
  const best = new Map<string, number>();
  const remember = (map: Map<string, number>, key: string, value: number) => {
    if (map.size >= MEMORY_ENTRIES && !map.has(key)) map.clear();
    map.set(key, value);
  };
  return {
    async startVisit(visit) {
      const outcome = await visitors.startVisit(visit);
      if (outcome === 'counted') remember(written, `${visit.visitorId}#${visit.camera}`, Date.parse(visit.seenAt));
      return outcome;
    },
    async seen(visitorId, seenAt, camera) {
      const key = `${visitorId}#${camera}`;
      const at = Date.parse(seenAt);
      const last = written.get(key);
      if (last !== undefined && at - last < intervalMs) return;
      await visitors.seen(visitorId, seenAt, camera);
      remember(written, key, Math.max(at, last ?? at));
    },
    async offerSnapshot(visitorId, snapshotKey, score) {
      const known = best.get(visitorId);
      if (known !== undefined && score <= known) return;
      await visitors.offerSnapshot(visitorId, snapshotKey, score);
      // Kept or refused (the table holds one at least as good): either way nothing worse is worth offering.
      remember(best, visitorId, score);
    },
  };
}

/**
 * Remembers, per consumer process, the alerts it sent: a later frame of the same person and camera within the
 * cooldown is suppressed without asking the alert-state table, as the table would answer (a face in view writes
 * five sightings a second, and each refused conditional claim is a billed write). The table stays the judge
 * for everything else: other processes' alerts, redeliveries of an unsent claim.
 */
export function alertsRemembered(store: AlertStateStore): AlertStateStore {
  const sent = new Map<string, { frameTimeMs: number; until: number }>();
  const keyOf = (claim: AlertClaim) => alertStateKey(claim.personId, claim.camera);
  return {
    claim(claim) {
      const last = sent.get(keyOf(claim));
      if (last && claim.frameTimeMs >= last.frameTimeMs && claim.frameTimeMs < last.until) return Promise.resolve('suppressed');
      return store.claim(claim);
    },
    markSending: (claim) => store.markSending(claim),
    releaseSending: (claim) => store.releaseSending(claim),
    async markSent(claim, messageId) {
      await store.markSent(claim, messageId);
      const last = sent.get(keyOf(claim));
      if (!last || claim.frameTimeMs > last.frameTimeMs) sent.set(keyOf(claim), { frameTimeMs: claim.frameTimeMs, until: claim.frameTimeMs + claim.cooldownMs });
    },
  };
}

/** Profile lookups for one batch: each person is read once, a failed read is not remembered. */
export function profilesOnce(people: PersonRules): (personId: string) => Promise<PersonAlertProfile | undefined> {
  const cache = new Map<string, Promise<PersonAlertProfile | undefined>>();
  return (personId) => {
    let profile = cache.get(personId);
    if (!profile) {
      profile = people.get(personId);
      cache.set(personId, profile);
      profile.catch(() => cache.delete(personId));
    }
    return profile;
  };
}

/**
 * One face-search record → its sightings (written idempotently) and alerts (claimed atomically, then published).
 * Safe to run again for the same record after any failure: sightings are not written twice and an alert is
 * published again only if its claim is still pending (no Publish started, or SNS answered with an error); a
 * Publish whose outcome is unknown (the process died during it) is never repeated. Throws on any
 * store or publisher failure, for the caller to retry the record.
 */
export async function recordSightings(
  record: FaceSearchRecord,
  ports: RecordSightingsPorts,
  settings: RecordSightingsSettings,
  profileOf: (personId: string) => Promise<PersonAlertProfile | undefined> = profilesOnce(ports.people),
): Promise<RecordOutcome> {
  const camera = settings.cameraOf(record.InputInformation.KinesisVideo.StreamArn);
  const sightings = sightingsFromRecord(record, camera, settings.sightings);
  if (settings.snapshots) {
    // The processor stored them under the same derived key (shared/domain/snapshot-key.ts): no lookup needed.
    for (const s of sightings) if (keepsSnapshot(Date.parse(s.seenAt), settings.samplingIntervalMs ?? 200)) s.snapshotKey = snapshotKeyOf(camera, s.sightingId);
  }
  const outcome: RecordOutcome = { camera, sightings, created: 0, alerts: [] };

  for (const sighting of sightings) {
    if ((await ports.sightings.putIfAbsent(sighting)) === 'created') outcome.created += 1;
    // Alerting runs for redelivered sightings too: an earlier attempt may have claimed and failed to publish.
    outcome.alerts.push(
      await alertFor(sighting, ports, settings.alerts, profileOf, settings.snapshots ? snapshotKeyOf(camera, sighting.sightingId) : undefined, settings.consoleUrl),
    );
  }

  // All faces of a record share one frame time: one forward-only update per person seen in it.
  const people = new Set(sightings.map((s) => s.personId).filter((id) => id !== UNKNOWN_PERSON));
  for (const personId of people) await ports.people.recordLastSeen(personId, sightings[0].seenAt, camera);
  if (ports.visitors) await recordVisitors(record, sightings, ports.visitors, settings);
  return outcome;
}

/**
 * The visitors of a record's unknown faces: a visit start counts a visit (or creates the visitor), any other frame
 * moves lastSeenAt forward, and a face's snapshot becomes the visitor's best when it scores higher. Redelivered
 * records change nothing (the visit gap and the forward-only conditions).
 */
async function recordVisitors(record: FaceSearchRecord, sightings: readonly Sighting[], visitors: VisitorLog, settings: RecordSightingsSettings): Promise<void> {
  for (const sighting of sightings) {
    const visitor = sighting.visitorId ? record.FaceSearchResponse[sighting.faceIndex]?.Visitor : undefined;
    if (!visitor || !sighting.visitorId) continue;
    const { visitorId, seenAt, camera } = sighting;
    const started =
      visitor.VisitStart &&
      (await visitors.startVisit({ visitorId, seenAt, camera, gapSeconds: settings.visitGapSeconds ?? DEFAULT_VISIT_GAP_SECONDS, faceId: visitor.FaceId })) === 'counted';
    if (!started) await visitors.seen(visitorId, seenAt, camera);
    // The linked snapshot, or on a visit start the one the processor kept of the face it looked up.
    const snapshot = sighting.snapshotKey ?? (visitor.VisitStart && settings.snapshots ? snapshotKeyOf(camera, sighting.sightingId) : undefined);
    if (snapshot) await visitors.offerSnapshot(visitorId, snapshot, snapshotScore(sighting.boundingBox, sighting.pose));
  }
}

async function alertFor(
  sighting: Sighting,
  ports: RecordSightingsPorts,
  settings: AlertSettings,
  profileOf: (personId: string) => Promise<PersonAlertProfile | undefined>,
  /** Where the processor would keep this frame's snapshot of the face (self mode). */
  ownSnapshotKey?: string,
  consoleUrl?: string,
): Promise<AlertOutcome> {
  const { sightingId, personId } = sighting;
  const profile = personId === UNKNOWN_PERSON ? undefined : await profileOf(personId);
  const decision = decideAlert(personId, profile?.rules, settings);
  if (!decision.alert) return { sightingId, personId, result: 'not-alerted', reason: decision.reason };

  const claim: AlertClaim = { personId, camera: sighting.camera, sightingId, frameTimeMs: frameTimeMs(sighting), cooldownMs: decision.cooldownMs };
  const claimed = await ports.alertState.claim(claim);
  if (claimed === 'suppressed') return { sightingId, personId, result: 'suppressed' };

  const snapshotUrl = await snapshotLinkFor(sighting, ports, ownSnapshotKey);
  const message = buildAlertMessage(sighting, {
    displayName: profile?.displayName,
    cooldownSeconds: decision.cooldownMs / 1000,
    snapshotUrl,
    snapshotUrlSeconds: ports.snapshotLinks?.lifetimeSeconds,
    consoleUrl,
  });
  // Claim the send before Publish: if this process dies during Publish, the redelivery finds `sending` and does
  // not publish again (SNS cannot deduplicate SMS or email deliveries): an alert goes out at most once.
  if (!(await ports.alertState.markSending(claim))) return { sightingId, personId, result: 'suppressed' };
  let messageId: string;
  try {
    messageId = await ports.publisher.publish(message);
  } catch (error) {
    // SNS answered with an error: nothing was published; the retry of the record publishes.
    await releaseWithRetries(ports, claim);
    throw error;
  }
  try {
    await ports.alertState.markSent(claim, messageId);
  } catch (error) {
    // The alert is out: failing the record now would only publish it a second time on the retry.
    ports.logger.warn('Alert published but not marked sent; it stays "sending", so a redelivery does not publish it again', {
      sightingId,
      messageId,
      error: error as Error,
    });
  }
  return { sightingId, personId, result: claimed === 'resumed' ? 'resent' : 'sent', messageId };
}

/** A lost release would turn a failed Publish into a lost alert: a few quick tries (throttling is brief). */
async function releaseWithRetries(ports: RecordSightingsPorts, claim: AlertClaim): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await ports.alertState.releaseSending(claim);
      return;
    } catch (error) {
      if (attempt >= 5) {
        ports.logger.warn('Alert publish failed and its claim could not be released: this alert will not be retried', { sightingId: claim.sightingId, error: error as Error });
        return;
      }
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
}

/**
 * A link to the sighting's snapshot: its linked one, else the one the processor kept of this very frame when it
 * searched the face (the first frame of a visit, the one that alerts). An alert without it beats no alert, so a
 * failure only logs.
 */
async function snapshotLinkFor(sighting: Sighting, ports: RecordSightingsPorts, ownSnapshotKey?: string): Promise<string | undefined> {
  if (!ports.snapshotLinks) return undefined;
  try {
    const key = sighting.snapshotKey ?? (ownSnapshotKey && (await ports.snapshotLinks.exists(ownSnapshotKey)) ? ownSnapshotKey : undefined);
    if (!key) return undefined;
    return await ports.snapshotLinks.urlFor(key);
  } catch (error) {
    ports.logger.warn('Could not sign the snapshot link; the alert goes without it', { sightingId: sighting.sightingId, error: error as Error });
    return undefined;
  }
}
