import { describe, expect, it } from 'vitest';
import { groupVisits, mergeSightings, pollSince } from '../src/live';
import type { SightingView } from '../src/types';

const box = { Width: 0.2, Height: 0.2, Left: 0.1, Top: 0.1 };
const at = (s: number) => new Date(Date.UTC(2026, 11, 7, 12, 0, s)).toISOString();
const sighting = (id: string, personId: string, second: number, extra: Partial<SightingView> = {}): SightingView => ({
  sightingId: id,
  personId,
  camera: 'front-door',
  seenAt: at(second),
  boundingBox: box,
  ...extra,
});

describe('groupVisits', () => {
  it('groups consecutive sightings of one person on one camera and shows the newest one with a snapshot', () => {
    // given: Ada for 3 s (one frame kept a snapshot), then 20 s later again
    const newestFirst = [
      sighting('a5', 'ada', 30),
      sighting('a3', 'ada', 3),
      sighting('a2', 'ada', 2, { snapshotUrl: 'http://s/a2.jpg', similarity: 97 }),
      sighting('a1', 'ada', 1, { similarity: 99 }),
    ];
    // when
    const visits = groupVisits(newestFirst);
    // then
    expect(visits.map((v) => [v.key, v.count, v.shown.sightingId])).toEqual([
      ['a5', 1, 'a5'],
      ['a3', 3, 'a2'],
    ]);
    expect(visits[1].firstSeenAt).toBe(at(1));
    expect(visits[1].lastSeenAt).toBe(at(3));
    expect(visits[1].bestSimilarity).toBe(99);
  });

  it('keeps two cameras, two people, a visitor and other unknown faces apart, and one visitor together', () => {
    const visits = groupVisits([
      sighting('u1', 'UNKNOWN', 5),
      sighting('u2', 'UNKNOWN', 4),
      sighting('v1', 'UNKNOWN', 3, { visitorId: 'v-1' }),
      sighting('v2', 'UNKNOWN', 2, { visitorId: 'v-1' }),
      sighting('b1', 'bob', 2, { camera: 'garage' }),
      sighting('a1', 'ada', 1),
    ]);
    expect(visits.map((v) => [v.key, v.count])).toEqual([
      ['u1', 2],
      ['v1', 2],
      ['b1', 1],
      ['a1', 1],
    ]);
  });
});

describe('mergeSightings', () => {
  it('adds what a poll brought once, newest first, and replaces an updated sighting', () => {
    const current = [sighting('b', 'ada', 2), sighting('a', 'ada', 1)];
    const merged = mergeSightings(current, [sighting('c', 'ada', 3), sighting('b', 'UNKNOWN', 2, { correctedFrom: 'ada' })]);
    expect(merged.map((s) => s.sightingId)).toEqual(['c', 'b', 'a']);
    expect(merged[1].personId).toBe('UNKNOWN');
  });

  it('keeps at most max sightings', () => {
    const many = Array.from({ length: 10 }, (_, i) => sighting(`s${i}`, 'ada', i));
    expect(mergeSightings([], many, 4).map((s) => s.sightingId)).toEqual(['s9', 's8', 's7', 's6']);
  });
});

describe('pollSince', () => {
  it('looks back a minute before the newest sighting, or five minutes before now without one', () => {
    expect(pollSince(at(120), 0)).toBe(at(60));
    expect(pollSince(undefined, Date.parse(at(600)))).toBe(at(300));
  });
});
