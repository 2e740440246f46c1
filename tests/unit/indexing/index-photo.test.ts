import { handlePhotoEvent, type IndexOutcome, type IndexPhotoPorts, type PhotoEvent } from '../../../shared/use-cases/index-photo';
import { personIdFromName } from '../../../shared/domain/person-id';
import { FakeFaceCollection, FakePhotoStore, InMemoryPeople, fakeFace } from '../../support/people-fakes';

const BUCKET = 'faces-bucket';
const NOW = new Date('2025-03-01T10:00:00.000Z');

function setup() {
  const people = new InMemoryPeople();
  const faces = new FakeFaceCollection();
  const photos = new FakePhotoStore();
  const ports: IndexPhotoPorts = { people, faces, photos, now: () => NOW };
  return { people, faces, photos, ports };
}

const created = (key: string, extra: Partial<PhotoEvent> = {}): PhotoEvent => ({
  type: 'created',
  bucket: BUCKET,
  key,
  size: 50_000,
  etag: 'etag-1',
  sequencer: '0A',
  ...extra,
});
const removed = (key: string, sequencer = '0B'): PhotoEvent => ({ type: 'removed', bucket: BUCKET, key, sequencer });

describe('handlePhotoEvent: a new photo', () => {
  it('indexes the face under the person id and records the face and the profile', async () => {
    // given an empty collection
    const { people, faces, ports } = setup();
    // when José María's photo arrives
    const outcome = await handlePhotoEvent(created('faces/José María/1.jpg'), ports);
    // then the face is indexed with the derived id, and recorded with the display name
    const personId = personIdFromName('José María');
    expect(faces.indexCalls).toEqual([{ photo: { bucket: BUCKET, key: 'faces/José María/1.jpg' }, externalImageId: personId }]);
    expect(outcome).toEqual({ outcome: 'indexed', personId, faceIds: ['face-1'] });
    expect(people.profiles.get(personId)).toMatchObject({ displayName: 'José María', rules: { muted: false, watchlist: false } });
    expect(await people.getPhoto(personId, 'faces/José María/1.jpg')).toMatchObject({
      status: 'indexed',
      etag: 'etag-1',
      sequencer: '0A',
      indexedAt: NOW.toISOString(),
      faces: [{ faceId: 'face-1' }],
    });
  });

  it('does nothing for a redelivered event (no second IndexFaces, no duplicate record)', async () => {
    const { people, faces, ports } = setup();
    await handlePhotoEvent(created('faces/bob/1.jpg'), ports);
    // when the same event comes again
    const outcome = await handlePhotoEvent(created('faces/bob/1.jpg'), ports);
    // then
    expect(outcome.outcome).toBe('skipped');
    expect(faces.indexCalls).toHaveLength(1);
    expect(faces.faces.size).toBe(1);
    expect(people.photos.size).toBe(1);
  });

  it('replaces the faces of an overwritten photo', async () => {
    const { people, faces, ports } = setup();
    await handlePhotoEvent(created('faces/bob/1.jpg'), ports);
    // when the photo is uploaded again with other content
    await handlePhotoEvent(created('faces/bob/1.jpg', { etag: 'etag-2', sequencer: '0C' }), ports);
    // then the old face is deleted and only the new one is recorded
    expect(faces.deleteCalls).toEqual([['face-1']]);
    expect([...faces.faces.keys()]).toEqual(['face-2']);
    expect((await people.getPhoto('bob', 'faces/bob/1.jpg'))?.faces.map((f) => f.faceId)).toEqual(['face-2']);
  });

  it('ignores a late event older than what was recorded', async () => {
    const { faces, ports } = setup();
    await handlePhotoEvent(created('faces/bob/1.jpg', { etag: 'new', sequencer: '0F' }), ports);
    const outcome = await handlePhotoEvent(created('faces/bob/1.jpg', { etag: 'old', sequencer: '0E' }), ports);
    expect(outcome.outcome).toBe('skipped');
    expect(faces.indexCalls).toHaveLength(1);
  });

  it('skips a folder placeholder', async () => {
    const { faces, people, ports } = setup();
    expect((await handlePhotoEvent(created('faces/bob/', { size: 0 }), ports)).outcome).toBe('skipped');
    expect(faces.indexCalls).toHaveLength(0);
    expect(people.profiles.size).toBe(0);
  });
});

describe('handlePhotoEvent: rejected photos', () => {
  it.each<[string, IndexOutcome, string]>([
    ['no face', { kind: 'indexed', faces: [], unindexedReasons: [] }, 'NO_FACE'],
    ['a refused face', { kind: 'indexed', faces: [], unindexedReasons: ['LOW_SHARPNESS'] }, 'FACE_REFUSED'],
    ['an invalid image format', { kind: 'refused', problem: 'NOT_JPEG_OR_PNG', detail: 'bad' }, 'NOT_JPEG_OR_PNG'],
    ['an image too large', { kind: 'refused', problem: 'TOO_LARGE', detail: 'big' }, 'TOO_LARGE'],
    ['an invalid image', { kind: 'refused', problem: 'INVALID_IMAGE', detail: 'too small' }, 'INVALID_IMAGE'],
  ])('records %s with its reason', async (_, answer, reason) => {
    // given Rekognition's answer for this photo
    const { people, faces, ports } = setup();
    faces.script.set('faces/bob/1.jpg', answer);
    // when
    const outcome = await handlePhotoEvent(created('faces/bob/1.jpg'), ports);
    // then the rejection is recorded where GET /people/bob shows it
    expect(outcome).toMatchObject({ outcome: 'rejected', rejection: { reason } });
    expect(await people.getPhoto('bob', 'faces/bob/1.jpg')).toMatchObject({ status: 'rejected', faces: [], rejection: { reason } });
    expect(people.profiles.has('bob')).toBe(true);
  });

  it('words a truncated photo as truncated and a 20,000 × 20,000 px one with its size (not "not a JPEG or PNG")', async () => {
    // Given Rekognition refusing a truncated JPEG and a 20,000 × 20,000 px PNG
    const { faces, ports } = setup();
    faces.script.set('faces/bob/cut.jpg', { kind: 'refused', problem: 'NOT_JPEG_OR_PNG', detail: 'Request has invalid image format: the JPEG is truncated (its data ends before the end of the image).' });
    faces.script.set('faces/bob/bomb.png', { kind: 'refused', problem: 'TOO_LARGE', detail: 'Image size is too large: 20000×20000 px exceeds 50 megapixels.' });
    // When both are uploaded
    const cut = await handlePhotoEvent(created('faces/bob/cut.jpg'), ports);
    const bomb = await handlePhotoEvent(created('faces/bob/bomb.png'), ports);
    // Then each is rejected with a message saying what is wrong with it
    expect(cut).toMatchObject({ outcome: 'rejected', rejection: { reason: 'INVALID_IMAGE', message: expect.stringMatching(/^"cut\.jpg" is truncated/) } });
    expect(bomb).toMatchObject({ outcome: 'rejected', rejection: { reason: 'TOO_LARGE', message: expect.stringContaining('too large: 20000×20000 px exceeds 50 megapixels') } });
  });

  it('refuses a non-image file and an oversized one without calling Rekognition', async () => {
    const { people, faces, ports } = setup();
    // When a text file and a JPEG over 15 MB are uploaded
    await handlePhotoEvent(created('faces/bob/notes.txt'), ports);
    await handlePhotoEvent(created('faces/bob/huge.jpg', { size: 15 * 1024 * 1024 + 1 }), ports);
    // Then Rekognition is not called and each is recorded as refused with its reason
    expect(faces.indexCalls).toHaveLength(0);
    expect((await people.getPhoto('bob', 'faces/bob/notes.txt'))?.rejection?.reason).toBe('NOT_JPEG_OR_PNG');
    expect((await people.getPhoto('bob', 'faces/bob/huge.jpg'))?.rejection?.reason).toBe('TOO_LARGE');
  });

  it('deletes the old face when a photo is replaced by one that is refused', async () => {
    const { people, faces, ports } = setup();
    await handlePhotoEvent(created('faces/bob/1.jpg'), ports);
    faces.script.set('faces/bob/1.jpg', { kind: 'indexed', faces: [], unindexedReasons: [] });
    await handlePhotoEvent(created('faces/bob/1.jpg', { etag: 'etag-2', sequencer: '0C' }), ports);
    expect(faces.faces.size).toBe(0);
    expect((await people.getPhoto('bob', 'faces/bob/1.jpg'))?.status).toBe('rejected');
  });

  it('records a key outside the layout in the unfiled list, and forgets it when it is deleted', async () => {
    const { people, ports } = setup();
    const outcome = await handlePhotoEvent(created('faces/stray.jpg'), ports);
    expect(outcome).toMatchObject({ outcome: 'rejected', rejection: { reason: 'OUTSIDE_LAYOUT' } });
    expect(people.unfiled.get('faces/stray.jpg')?.rejection.reason).toBe('OUTSIDE_LAYOUT');
    expect(people.profiles.size).toBe(0);
    await handlePhotoEvent(removed('faces/stray.jpg'), ports);
    expect(people.unfiled.size).toBe(0);
  });

  it('skips a photo deleted before Rekognition could read it', async () => {
    const { people, faces, ports } = setup();
    faces.script.set('faces/bob/1.jpg', { kind: 'refused', problem: 'UNREADABLE', detail: 'not found' });
    const outcome = await handlePhotoEvent(created('faces/bob/1.jpg'), ports);
    expect(outcome.outcome).toBe('skipped');
    expect(people.photos.size).toBe(0);
  });

  it('fails (to be retried) when an existing photo cannot be read', async () => {
    const { photos, faces, ports } = setup();
    photos.keys.add('faces/bob/1.jpg');
    faces.script.set('faces/bob/1.jpg', { kind: 'refused', problem: 'UNREADABLE', detail: 'access denied' });
    await expect(handlePhotoEvent(created('faces/bob/1.jpg'), ports)).rejects.toThrow(/cannot read/);
  });

  it('lets a throttling error through so the event is retried', async () => {
    const { faces, people, ports } = setup();
    faces.script.set('faces/bob/1.jpg', Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    await expect(handlePhotoEvent(created('faces/bob/1.jpg'), ports)).rejects.toThrow('slow down');
    expect(people.photos.size).toBe(0);
  });
});

describe('handlePhotoEvent: a deleted photo', () => {
  it('deletes its faces and its record', async () => {
    const { people, faces, ports } = setup();
    await handlePhotoEvent(created('faces/bob/1.jpg'), ports);
    await handlePhotoEvent(created('faces/bob/2.jpg', { sequencer: '0A' }), ports);
    // when photo 1 is deleted
    const outcome = await handlePhotoEvent(removed('faces/bob/1.jpg'), ports);
    // then only its face goes
    expect(outcome).toEqual({ outcome: 'removed', personId: 'bob', faceIds: ['face-1'] });
    expect([...faces.faces.keys()]).toEqual(['face-2']);
    expect(await people.getPhoto('bob', 'faces/bob/1.jpg')).toBeUndefined();
    expect(await people.getPhoto('bob', 'faces/bob/2.jpg')).toBeDefined();
  });

  it('ignores a deletion older than the recorded upload', async () => {
    const { people, faces, ports } = setup();
    // Given a photo indexed from an upload with sequencer 0F
    await handlePhotoEvent(created('faces/bob/1.jpg', { sequencer: '0F' }), ports);
    // When a deletion with the older sequencer 0E arrives
    const outcome = await handlePhotoEvent(removed('faces/bob/1.jpg', '0E'), ports);
    // Then it is skipped: the face and the photo stay
    expect(outcome.outcome).toBe('skipped');
    expect(faces.faces.size).toBe(1);
    expect(await people.getPhoto('bob', 'faces/bob/1.jpg')).toBeDefined();
  });

  it('is a no-op when redelivered', async () => {
    const { faces, ports } = setup();
    await handlePhotoEvent(created('faces/bob/1.jpg'), ports);
    await handlePhotoEvent(removed('faces/bob/1.jpg'), ports);
    const again = await handlePhotoEvent(removed('faces/bob/1.jpg'), ports);
    expect(again.outcome).toBe('skipped');
    expect(faces.deleteCalls).toEqual([['face-1']]);
  });
});

describe('handlePhotoEvent: concurrent uploads of one key', () => {
  it('keeps the newer upload and deletes the faces of the older one', async () => {
    // given a newer upload gets recorded while an older one is being indexed
    const { people, faces, ports } = setup();
    faces.script.set('faces/bob/1.jpg', { kind: 'indexed', faces: [fakeFace('old-face')], unindexedReasons: [] });
    people.beforeNextWrite = () => {
      faces.faces.set('new-face', 'bob');
      people.photos.set('bob|faces/bob/1.jpg', {
        personId: 'bob',
        photoKey: 'faces/bob/1.jpg',
        etag: 'etag-new',
        sequencer: '0F',
        status: 'indexed',
        faces: [fakeFace('new-face')],
        indexedAt: NOW.toISOString(),
      });
    };
    // when the older event finishes
    const outcome = await handlePhotoEvent(created('faces/bob/1.jpg', { sequencer: '0A' }), ports);
    // then the newer record stays and the older faces are gone
    expect(outcome.outcome).toBe('skipped');
    expect((await people.getPhoto('bob', 'faces/bob/1.jpg'))?.etag).toBe('etag-new');
    expect([...faces.faces.keys()]).toEqual(['new-face']);
  });
});
