import type { SightingView } from './types';

/** A run of sightings of one face on one camera, gap ≤ `gapMs` between frames: one row of the Live page. */
export interface Visit {
  key: string;
  personId: string;
  camera: string;
  visitorId?: string;
  firstSeenAt: string;
  lastSeenAt: string;
  count: number;
  bestSimilarity?: number;
  /** The newest sighting of the run that kept a snapshot (the one the row shows and links to), else the newest. */
  shown: SightingView;
}

const visitorOf = (s: SightingView) => s.visitorId;

/** Merges new sightings into what is shown, by id (a poll overlaps the last one), newest first. */
export function mergeSightings(current: readonly SightingView[], incoming: readonly SightingView[], max = 2000): SightingView[] {
  const byId = new Map<string, SightingView>();
  for (const s of current) byId.set(s.sightingId, s);
  for (const s of incoming) byId.set(s.sightingId, s);
  return [...byId.values()].sort((a, b) => (a.seenAt < b.seenAt ? 1 : a.seenAt > b.seenAt ? -1 : a.sightingId.localeCompare(b.sightingId))).slice(0, max);
}

/**
 * Five sightings a second per face would bury the page: consecutive sightings (newest first) of the same person (or
 * visitor) on the same camera with no gap longer than `gapMs` are one visit.
 */
export function groupVisits(sightings: readonly SightingView[], gapMs = 10_000): Visit[] {
  const visits: Visit[] = [];
  const open = new Map<string, Visit>();
  for (const s of sightings) {
    // An unknown face without a visitor id (managed mode, or before a visitor is known) has no identity to group
    // by: consecutive ones on one camera are shown as one run, as the processor's tracker would see them.
    const who = s.personId === 'UNKNOWN' ? `UNKNOWN:${visitorOf(s) ?? ''}` : s.personId;
    const id = `${who}|${s.camera}`;
    const visit = open.get(id);
    if (visit && Date.parse(visit.firstSeenAt) - Date.parse(s.seenAt) <= gapMs) {
      visit.firstSeenAt = s.seenAt;
      visit.count++;
      if (s.similarity !== undefined) visit.bestSimilarity = Math.max(visit.bestSimilarity ?? 0, s.similarity);
      if (!visit.shown.snapshotUrl && s.snapshotUrl) visit.shown = s;
      continue;
    }
    const fresh: Visit = {
      key: s.sightingId,
      personId: s.personId,
      camera: s.camera,
      ...(visitorOf(s) ? { visitorId: visitorOf(s) } : {}),
      firstSeenAt: s.seenAt,
      lastSeenAt: s.seenAt,
      count: 1,
      ...(s.similarity !== undefined ? { bestSimilarity: s.similarity } : {}),
      shown: s,
    };
    open.set(id, fresh);
    visits.push(fresh);
  }
  return visits;
}

/** Poll window: sightings arrive after their frame (processing, several cameras), so look back a little and merge by id. */
export function pollSince(newestSeenAt: string | undefined, now: number, lookBackMs = 60_000): string {
  const from = newestSeenAt ? Date.parse(newestSeenAt) - lookBackMs : now - 5 * 60_000;
  return new Date(from).toISOString();
}
