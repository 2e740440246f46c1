import { ValidationError } from '../../../shared/errors';
import { listSightings } from '../../../shared/use-cases/sightings';
import { FakeSightingHistory, sighting } from '../../support/people-fakes';

const NOW = new Date('2025-03-10T12:00:00.000Z');

describe('listSightings', () => {
  it('defaults the window to the retention period up to now', async () => {
    const history = new FakeSightingHistory();
    await listSightings(history, { limit: 50 }, NOW, 30);
    expect(history.queries[0]).toMatchObject({ since: '2025-02-08T12:00:00.000Z', until: '2025-03-10T12:00:00.000Z', limit: 50 });
  });

  it('answers the sightings newest first without internal stream coordinates', async () => {
    const history = new FakeSightingHistory();
    history.sightings = [
      sighting({ sightingId: 'a', personId: 'bob', camera: 'garage', seenAt: '2025-03-10T10:00:00.000Z' }),
      sighting({ sightingId: 'b', personId: 'bob', camera: 'garage', seenAt: '2025-03-10T11:00:00.000Z' }),
    ];
    const { sightings } = await listSightings(history, { personId: 'bob', limit: 50 }, NOW, 30);
    expect(sightings.map((s) => s.sightingId)).toEqual(['b', 'a']);
    expect(sightings[0]).toEqual({
      sightingId: 'b',
      personId: 'bob',
      camera: 'garage',
      seenAt: '2025-03-10T11:00:00.000Z',
      similarity: 97.5,
      boundingBox: { Width: 0.2, Height: 0.3, Left: 0.1, Top: 0.1 },
    });
  });

  it('refuses since after until, naming the field', async () => {
    const history = new FakeSightingHistory();
    const error = await listSightings(history, { since: new Date('2025-03-02'), until: new Date('2025-03-01'), limit: 5 }, NOW, 30).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.details).toEqual({ field: 'since' });
    expect(history.queries).toHaveLength(0);
  });

  it('binds the cursor to the filters as given, not to the moving default window', async () => {
    const history = new FakeSightingHistory();
    await listSightings(history, { camera: 'garage', limit: 5 }, NOW, 30);
    await listSightings(history, { camera: 'garage', limit: 5 }, new Date(NOW.getTime() + 60_000), 30);
    expect(history.queries[0].fingerprint).toBe(history.queries[1].fingerprint);
    await listSightings(history, { camera: 'garage', until: NOW, limit: 5 }, NOW, 30);
    expect(history.queries[2].fingerprint).not.toBe(history.queries[0].fingerprint);
  });
});
