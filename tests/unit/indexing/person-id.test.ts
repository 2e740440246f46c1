import fc from 'fast-check';
import { isPersonId, personIdFromName } from '../../../shared/domain/person-id';

const EXTERNAL_IMAGE_ID = /^[a-zA-Z0-9_.\-:]+$/;

describe('personIdFromName', () => {
  it('keeps a folder name that is already a valid ExternalImageId', () => {
    // given names made of [a-zA-Z0-9_.-] only
    // when / then they are the id as-is
    expect(personIdFromName('Jhb')).toBe('Jhb');
    expect(personIdFromName('jane.doe_2-b')).toBe('jane.doe_2-b');
  });

  it('maps accents, apostrophes and spaces to a readable slug plus a hash', () => {
    expect(personIdFromName('José María')).toMatch(/^Jose-Maria:[0-9a-f]{16}$/);
    expect(personIdFromName("O'Brien")).toMatch(/^O-Brien:[0-9a-f]{16}$/);
    expect(personIdFromName('王小明')).toMatch(/^person:[0-9a-f]{16}$/);
  });

  it('gives names with the same slug different ids', () => {
    // given two names that slug to the same text
    const a = personIdFromName("O'Brien");
    const b = personIdFromName('O Brien');
    // then the hash keeps them apart
    expect(a).not.toBe(b);
    expect(a.split(':')[0]).toBe(b.split(':')[0]);
  });

  it('hashes a name containing ":" so it cannot pose as a hashed id', () => {
    const forged = `Jose-Maria:${personIdFromName('José María').split(':')[1]}`;
    expect(personIdFromName(forged)).not.toBe(personIdFromName('José María'));
    expect(personIdFromName(forged)).toMatch(/^Jose-Maria-[0-9a-f]{16}:[0-9a-f]{16}$/);
  });

  it('treats the NFC and NFD spellings of a name as one person', () => {
    expect(personIdFromName('Jose\u0301')).toBe(personIdFromName('Jos\u00e9'));
  });

  it('never takes the unknown-face marker as an id', () => {
    expect(personIdFromName('UNKNOWN')).toMatch(/^UNKNOWN:[0-9a-f]{16}$/);
    expect(isPersonId('UNKNOWN')).toBe(false);
  });

  it('hashes names longer than 200 characters', () => {
    expect(personIdFromName('a'.repeat(200))).toBe('a'.repeat(200));
    expect(personIdFromName('a'.repeat(201))).toMatch(/^a{64}:[0-9a-f]{16}$/);
  });

  it('produces a valid ExternalImageId (≤255) that the API accepts, for any name', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }), (name) => {
        const id = personIdFromName(name);
        expect(id).toMatch(EXTERNAL_IMAGE_ID);
        expect(id.length).toBeLessThanOrEqual(255);
        expect(isPersonId(id) || id.startsWith('UNKNOWN')).toBe(true);
      }),
    );
  });

  it('is injective: different names give different ids', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), fc.string({ unit: 'grapheme', minLength: 1 }), (a, b) => {
        fc.pre(a.normalize('NFC') !== b.normalize('NFC'));
        expect(personIdFromName(a)).not.toBe(personIdFromName(b));
      }),
    );
  });
});
