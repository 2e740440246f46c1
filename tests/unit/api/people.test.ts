import { NotFoundError } from '../../../shared/errors';
import { handlePhotoEvent, type PhotoEvent } from '../../../shared/use-cases/index-photo';
import { erasePerson, getPerson, listPeople, updatePersonRules, type ErasePorts } from '../../../shared/use-cases/people';
import { personIdFromName } from '../../../shared/domain/person-id';
import { FakeFaceCollection, FakePhotoStore, FakeSightingHistory, InMemoryPeople, sighting } from '../../support/people-fakes';

const NOW = new Date('2025-03-01T10:00:00.000Z');

/** People registered through the real indexing use case, so the records have their real shape. */
async function given(uploads: { key: string; answer?: 'no-face' }[]) {
  const people = new InMemoryPeople();
  const faces = new FakeFaceCollection();
  const photos = new FakePhotoStore();
  const sightings = new FakeSightingHistory();
  let sequencer = 0;
  for (const upload of uploads) {
    photos.keys.add(upload.key);
    if (upload.answer === 'no-face') faces.script.set(upload.key, { kind: 'indexed', faces: [], unindexedReasons: [] });
    const event: PhotoEvent = { type: 'created', bucket: 'b', key: upload.key, size: 10, etag: `e${sequencer}`, sequencer: (++sequencer).toString(16) };
    await handlePhotoEvent(event, { people, faces, photos, now: () => NOW });
  }
  const ports: ErasePorts = { people, faces, photos, sightings, cameras: ['front-door', 'garage'] };
  return { people, faces, photos, sightings, ports };
}

describe('getPerson', () => {
  it('shows faces and rejected photos with their reason', async () => {
    const { people } = await given([{ key: 'faces/bob/1.jpg' }, { key: 'faces/bob/2.jpg', answer: 'no-face' }]);
    const view = await getPerson(people, 'bob');
    expect(view).toMatchObject({
      personId: 'bob',
      displayName: 'bob',
      rules: { muted: false, watchlist: false },
      faces: [{ faceId: 'face-1', photoKey: 'faces/bob/1.jpg', indexedAt: NOW.toISOString(), quality: { Brightness: 80, Sharpness: 90 } }],
      rejectedPhotos: [{ photoKey: 'faces/bob/2.jpg', reason: 'NO_FACE' }],
    });
  });

  it('is a 404 for an unknown person', async () => {
    const { people } = await given([]);
    await expect(getPerson(people, 'nobody')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('listPeople', () => {
  it('pages through people with their faces, and lists unfiled photos', async () => {
    // Given three people with a face each and a photo outside the layout
    const { people } = await given([{ key: 'faces/ann/1.jpg' }, { key: 'faces/bob/1.jpg' }, { key: 'faces/cy/1.jpg' }, { key: 'faces/loose.jpg' }]);
    // When they are listed two by two
    const first = await listPeople(people, 2);
    const second = await listPeople(people, 2, first.nextCursor);
    // Then two pages hold them in order, with their faces, and the loose photo is listed as unfiled
    expect(first.people.map((p) => p.personId)).toEqual(['ann', 'bob']);
    expect(first.people[0].faces).toHaveLength(1);
    expect(second.people.map((p) => p.personId)).toEqual(['cy']);
    expect(second.nextCursor).toBeUndefined();
    expect(first.unfiledPhotos).toEqual([expect.objectContaining({ photoKey: 'faces/loose.jpg', reason: 'OUTSIDE_LAYOUT' })]);
  });
});

describe('updatePersonRules', () => {
  it('changes only the rules given', async () => {
    const { people } = await given([{ key: 'faces/bob/1.jpg' }]);
    await updatePersonRules(people, 'bob', { watchlist: true }, NOW);
    const view = await updatePersonRules(people, 'bob', { muted: true }, new Date('2025-03-02T00:00:00Z'));
    expect(view.rules).toEqual({ muted: true, watchlist: true });
    expect(view.updatedAt).toBe('2025-03-02T00:00:00.000Z');
  });

  it('is a 404 for an unknown person', async () => {
    const { people } = await given([]);
    await expect(updatePersonRules(people, 'nobody', { muted: true }, NOW)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('erasePerson', () => {
  it('removes faces, photos (also unprocessed ones), sightings, alert state and records, and counts them', async () => {
    // given José María with two photos (one refused), a photo not yet processed, sightings and alert state
    const name = 'José María';
    const personId = personIdFromName(name);
    const { ports, faces, photos, people, sightings } = await given([{ key: `faces/${name}/1.jpg` }, { key: `faces/${name}/2.jpg`, answer: 'no-face' }, { key: 'faces/bob/1.jpg' }]);
    photos.keys.add(`faces/${name}/just-uploaded.jpg`);
    sightings.sightings = [
      sighting({ sightingId: 's1', personId, camera: 'front-door', seenAt: '2025-03-01T09:00:00.000Z' }),
      sighting({ sightingId: 's2', personId, camera: 'garage', seenAt: '2025-03-01T09:30:00.000Z' }),
      sighting({ sightingId: 's3', personId: 'bob', camera: 'garage', seenAt: '2025-03-01T09:40:00.000Z' }),
    ];
    sightings.alertStates.add(`${personId}#garage`);
    sightings.alertStates.add('bob#garage');
    // when
    const erasure = await erasePerson(ports, personId);
    // then
    expect(erasure).toEqual({ personId, removed: { faces: 1, photos: 3, records: 3, sightings: 2, alertStates: 1 } });
    expect([...faces.faces.values()]).toEqual(['bob']);
    expect([...photos.keys]).toEqual(['faces/bob/1.jpg']);
    expect(sightings.sightings.map((s) => s.sightingId)).toEqual(['s3']);
    expect([...sightings.alertStates]).toEqual(['bob#garage']);
    expect(await people.getPerson(personId)).toEqual({ profile: undefined, photos: [] });
  });

  it('is a 404 when there is nothing to erase', async () => {
    const { ports } = await given([{ key: 'faces/bob/1.jpg' }]);
    await expect(erasePerson(ports, 'nobody')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses the unknown-face marker', async () => {
    const { ports, sightings } = await given([]);
    sightings.sightings = [sighting({ sightingId: 's1', personId: 'UNKNOWN', camera: 'garage', seenAt: '2025-03-01T09:00:00.000Z' })];
    await expect(erasePerson(ports, 'UNKNOWN')).rejects.toBeInstanceOf(NotFoundError);
    expect(sightings.sightings).toHaveLength(1);
  });
});
