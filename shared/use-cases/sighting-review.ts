import type { Sighting } from '../domain/model';
import { FACES_PREFIX } from '../domain/photo-key';
import { ConflictError, NotFoundError } from '../errors';
import { UNKNOWN_PERSON } from '../tables';
import type { PersonWithPhotos } from './people';
import type { SnapshotLinks } from './record-sightings';
import { toSightingView, type SightingView } from './sightings';
import { personFolder, type PersonTarget } from './photo-uploads';
import type { PhotoCopier } from './visitors';

/** One sighting by id, and the operator's corrections of it (the console's sighting page). */
export interface SightingRecords {
  get(sightingId: string): Promise<Sighting | undefined>;
  /**
   * Sets the sighting's person to `to` only while it is still `from` (another correction in between wins);
   * `note` holds what the correction adds (correctedFrom / identifiedBy and its time). False when `from` no longer holds.
   */
  reassign(sightingId: string, from: string, to: string, note: Pick<Sighting, 'correctedFrom' | 'identified' | 'correctedAt'>): Promise<boolean>;
}

export interface ReviewPorts {
  sightings: SightingRecords;
  people: { getPerson(personId: string): Promise<PersonWithPhotos> };
  /** Copies the snapshot into the person's folder: indexing stays the S3-triggered path. */
  photos: PhotoCopier;
  snapshotLinks?: Pick<SnapshotLinks, 'urlFor'>;
}

export async function getSighting(ports: Pick<ReviewPorts, 'sightings' | 'snapshotLinks'>, sightingId: string): Promise<SightingView> {
  const sighting = await ports.sightings.get(sightingId);
  if (!sighting) throw unknownSighting(sightingId);
  return withLink(ports, sighting);
}

/**
 * "This is …": the sighting's snapshot becomes a photo of that person (copied to faces/<folder>/sighting-<id>.jpg, so
 * the indexer registers it as any upload), and the sighting is that person's from now on.
 */
export async function identifySighting(
  ports: ReviewPorts,
  sightingId: string,
  target: PersonTarget,
  now: Date,
): Promise<{ sighting: SightingView; personId: string; photoKey: string }> {
  const sighting = await ports.sightings.get(sightingId);
  if (!sighting) throw unknownSighting(sightingId);
  if (!sighting.snapshotKey) {
    throw new ConflictError('This sighting kept no face snapshot (about one frame a second keeps one): pick a sighting with a picture', { field: 'sightingId' });
  }
  const { folder, personId } = await personFolder(ports.people, target);
  const photoKey = `${FACES_PREFIX}${folder}/sighting-${sightingId}.jpg`;
  if (!(await ports.photos.copy(sighting.snapshotKey, photoKey))) {
    throw new ConflictError('This sighting\'s snapshot is gone (snapshots expire with the sightings\' retention): pick a newer sighting', { field: 'sightingId' });
  }
  let current = sighting;
  if (current.personId !== personId) {
    const note = { identified: true, correctedAt: now.toISOString(), ...(current.personId !== UNKNOWN_PERSON ? { correctedFrom: current.personId } : {}) };
    if (!(await ports.sightings.reassign(sightingId, current.personId, personId, note))) throw changedMeanwhile(sightingId);
    current = { ...current, ...note, personId };
  }
  return { sighting: await withLink(ports, current), personId, photoKey };
}

/**
 * "Not this person": the match is wrong. The sighting becomes an unknown face and keeps who it was matched to
 * (`correctedFrom`), so it leaves that person's history and alerts' view; nothing is erased.
 */
export async function rejectMatch(ports: Pick<ReviewPorts, 'sightings' | 'snapshotLinks'>, sightingId: string, personId: string, now: Date): Promise<SightingView> {
  const sighting = await ports.sightings.get(sightingId);
  if (!sighting) throw unknownSighting(sightingId);
  if (sighting.personId !== personId) {
    throw new ConflictError(
      sighting.personId === UNKNOWN_PERSON
        ? 'This sighting matches nobody already'
        : `This sighting is of "${sighting.personId}", not "${personId}": reload it and try again`,
      { field: 'personId', details: { personId: sighting.personId } },
    );
  }
  const note = { correctedFrom: personId, correctedAt: now.toISOString() };
  if (!(await ports.sightings.reassign(sightingId, personId, UNKNOWN_PERSON, note))) throw changedMeanwhile(sightingId);
  return withLink(ports, { ...sighting, ...note, personId: UNKNOWN_PERSON, similarity: undefined, matchedFaceId: undefined });
}

async function withLink(ports: Pick<ReviewPorts, 'snapshotLinks'>, sighting: Sighting): Promise<SightingView> {
  const view = toSightingView(sighting);
  return sighting.snapshotKey && ports.snapshotLinks ? { ...view, snapshotUrl: await ports.snapshotLinks.urlFor(sighting.snapshotKey) } : view;
}

const unknownSighting = (sightingId: string) => new NotFoundError(`No sighting with id "${sightingId}" (sightings expire after the retention)`, { field: 'sightingId' });
const changedMeanwhile = (sightingId: string) => new ConflictError(`Sighting "${sightingId}" was corrected by someone else meanwhile: reload it`, { field: 'sightingId' });
