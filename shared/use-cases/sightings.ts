import type { Sighting } from '../domain/model';
import type { Page } from '../domain/page';
import { ValidationError } from '../errors';
import type { SnapshotLinks } from './record-sightings';

/** Filters of GET /sightings, already validated; times are ISO strings as produced by Date#toISOString. */
export interface SightingQuery {
  personId?: string;
  /** A recurring unknown visitor's sightings (the byVisitor index). */
  visitorId?: string;
  camera?: string;
  since: string;
  until: string;
  limit: number;
  cursor?: string;
  /** Identifies the filters as the caller gave them (defaults like "until now" move between pages). */
  fingerprint?: string;
}

/** What the consumer wrote, as the API reads it. */
export interface SightingHistory {
  query(query: SightingQuery): Promise<Page<Sighting>>;
}

export interface SightingFilters {
  personId?: string;
  visitorId?: string;
  camera?: string;
  since?: Date;
  until?: Date;
  limit: number;
  cursor?: string;
}

/** A sighting as the API shows it (the raw stream coordinates stay internal). */
export interface SightingView {
  sightingId: string;
  personId: string;
  camera: string;
  seenAt: string;
  similarity?: number;
  matchedFaceId?: string;
  confidence?: number;
  boundingBox: Sighting['boundingBox'];
  snapshotKey?: string;
  /** Set by an operator's correction: the person the face was matched to before. */
  correctedFrom?: string;
  /** An operator said who this is. */
  identified?: boolean;
  /** Presigned link to the snapshot (when the API is given a linker). */
  snapshotUrl?: string;
  /** An unknown face's recurring visitor (docs/visitors.md). */
  visitorId?: string;
}

/**
 * Sightings newest first. Without `since`, the search goes back as far as sightings are kept (retention),
 * which bounds how many days the all-sightings (byDay) index is read.
 */
export async function listSightings(
  history: SightingHistory,
  filters: SightingFilters,
  now: Date,
  retentionDays: number,
  snapshotLinks?: Pick<SnapshotLinks, 'urlFor'>,
): Promise<{ sightings: SightingView[]; nextCursor?: string }> {
  const until = filters.until ?? now;
  const since = filters.since ?? new Date(until.getTime() - retentionDays * 86_400_000);
  if (since.getTime() > until.getTime()) throw new ValidationError('since: must not be after until', { field: 'since' });
  const page: Page<Sighting> = await history.query({
    personId: filters.personId,
    ...(filters.visitorId ? { visitorId: filters.visitorId } : {}),
    camera: filters.camera,
    since: since.toISOString(),
    until: until.toISOString(),
    limit: filters.limit,
    cursor: filters.cursor,
    fingerprint: JSON.stringify([
      filters.personId ?? null,
      filters.camera ?? null,
      filters.since?.toISOString() ?? null,
      filters.until?.toISOString() ?? null,
      // Only when given: cursors of the other filters stay what they were.
      ...(filters.visitorId ? [filters.visitorId] : []),
    ]),
  });
  const sightings = await Promise.all(
    page.items.map(async (s) => {
      const view = toSightingView(s);
      return s.snapshotKey && snapshotLinks ? { ...view, snapshotUrl: await snapshotLinks.urlFor(s.snapshotKey) } : view;
    }),
  );
  return { sightings, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
}

export function toSightingView(s: Sighting): SightingView {
  return {
    sightingId: s.sightingId,
    personId: s.personId,
    camera: s.camera,
    seenAt: s.seenAt,
    ...(s.similarity !== undefined ? { similarity: s.similarity } : {}),
    ...(s.matchedFaceId ? { matchedFaceId: s.matchedFaceId } : {}),
    ...(s.confidence !== undefined ? { confidence: s.confidence } : {}),
    boundingBox: s.boundingBox,
    ...(s.snapshotKey ? { snapshotKey: s.snapshotKey } : {}),
    ...(s.correctedFrom ? { correctedFrom: s.correctedFrom } : {}),
    ...(s.identified ? { identified: true } : {}),
    ...(s.visitorId ? { visitorId: s.visitorId } : {}),
  };
}
