/** In-memory versions of the consumer's ports, following the same rules as the DynamoDB adapters. */
import type { AlertStateStore, PersonAlertProfile, PersonRules, SightingStore, VisitorLog } from '../../shared/use-cases/record-sightings';
import { evaluateClaim, type AlertClaim, type ClaimOutcome } from '../../shared/domain/alert-policy';
import { alertStateKey, type AlertState, type Sighting } from '../../shared/domain/model';
import type { RecordSightingsPorts } from '../../shared/use-cases/record-sightings';
import { RecordingAlertPublisher } from './recording-publisher';

export class InMemorySightingStore implements SightingStore {
  readonly items = new Map<string, Sighting>();
  async putIfAbsent(sighting: Sighting): Promise<'created' | 'exists'> {
    if (this.items.has(sighting.sightingId)) return 'exists';
    this.items.set(sighting.sightingId, sighting);
    return 'created';
  }
}

export class InMemoryAlertStateStore implements AlertStateStore {
  readonly items = new Map<string, Pick<AlertState, 'sightingId' | 'lastAlertAt' | 'status' | 'messageId'>>();
  async claim(claim: AlertClaim): Promise<ClaimOutcome> {
    const key = alertStateKey(claim.personId, claim.camera);
    const outcome = evaluateClaim(this.items.get(key), claim);
    if (outcome !== 'suppressed') this.items.set(key, { sightingId: claim.sightingId, lastAlertAt: claim.frameTimeMs, status: 'pending' });
    return outcome;
  }
  async markSending(claim: AlertClaim): Promise<boolean> {
    const state = this.items.get(alertStateKey(claim.personId, claim.camera));
    if (state?.sightingId !== claim.sightingId || state.status !== 'pending') return false;
    state.status = 'sending';
    return true;
  }
  async releaseSending(claim: AlertClaim): Promise<void> {
    const state = this.items.get(alertStateKey(claim.personId, claim.camera));
    if (state?.sightingId === claim.sightingId && state.status === 'sending') state.status = 'pending';
  }
  async markSent(claim: AlertClaim, messageId: string): Promise<void> {
    const state = this.items.get(alertStateKey(claim.personId, claim.camera));
    if (state?.sightingId === claim.sightingId) Object.assign(state, { status: 'sent', messageId });
  }
}

export class InMemoryPersonRules implements PersonRules {
  readonly lastSeen = new Map<string, { seenAt: string; camera: string }>();
  readonly reads: string[] = [];
  constructor(readonly profiles: Record<string, PersonAlertProfile> = {}) {}
  async get(personId: string): Promise<PersonAlertProfile | undefined> {
    this.reads.push(personId);
    return this.profiles[personId];
  }
  async recordLastSeen(personId: string, seenAt: string, camera: string): Promise<void> {
    const current = this.lastSeen.get(personId);
    if (this.profiles[personId] && (!current || current.seenAt < seenAt)) this.lastSeen.set(personId, { seenAt, camera });
  }
}

export interface InMemoryPorts extends RecordSightingsPorts {
  sightings: InMemorySightingStore;
  alertState: InMemoryAlertStateStore;
  people: InMemoryPersonRules;
  publisher: RecordingAlertPublisher;
  logger: { warn: jest.Mock };
}

export function inMemoryPorts(profiles: Record<string, PersonAlertProfile> = {}): InMemoryPorts {
  return {
    sightings: new InMemorySightingStore(),
    alertState: new InMemoryAlertStateStore(),
    people: new InMemoryPersonRules(profiles),
    publisher: new RecordingAlertPublisher(),
    logger: { warn: jest.fn() },
  };
}

/** The visitors table with the DynamoDB adapter's conditions (shared/adapters/visitor-store.ts); counts the writes asked. */
export class InMemoryVisitorLog implements VisitorLog {
  readonly items = new Map<string, { visits: number; firstSeenAt: string; lastSeenAt: string; lastSeenCamera: string; faceIds: Set<string>; bestSnapshotKey?: string; bestScore?: number }>();
  writes = 0;
  async startVisit(visit: { visitorId: string; seenAt: string; camera: string; gapSeconds: number; faceId?: string }): Promise<'counted' | 'same-visit'> {
    this.writes++;
    const item = this.items.get(visit.visitorId);
    const gapStart = new Date(Date.parse(visit.seenAt) - visit.gapSeconds * 1000).toISOString();
    if (item && !(item.lastSeenAt < gapStart)) return 'same-visit';
    const next = item ?? { visits: 0, firstSeenAt: visit.seenAt, lastSeenAt: visit.seenAt, lastSeenCamera: visit.camera, faceIds: new Set<string>() };
    next.visits += 1;
    next.lastSeenAt = visit.seenAt;
    next.lastSeenCamera = visit.camera;
    if (visit.faceId) next.faceIds.add(visit.faceId);
    this.items.set(visit.visitorId, next);
    return 'counted';
  }
  async seen(visitorId: string, seenAt: string, camera: string): Promise<void> {
    this.writes++;
    const item = this.items.get(visitorId);
    if (item && item.lastSeenAt < seenAt) Object.assign(item, { lastSeenAt: seenAt, lastSeenCamera: camera });
  }
  async offerSnapshot(visitorId: string, snapshotKey: string, score: number): Promise<void> {
    this.writes++;
    const item = this.items.get(visitorId);
    if (item && (item.bestScore === undefined || item.bestScore < score)) Object.assign(item, { bestSnapshotKey: snapshotKey, bestScore: score });
  }
}
