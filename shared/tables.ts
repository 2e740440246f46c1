import definitions from './tables.json';

/** Key names shared with resources/tables.yml (both read shared/tables.json). */
export const tables = definitions;

/** People table: one partition per person holding its profile, its photos and their faces. */
export const peopleKeys = {
  person: (personId: string) => ({ pk: `PERSON#${personId}`, sk: 'PROFILE' }),
  photo: (personId: string, photoKey: string) => ({ pk: `PERSON#${personId}`, sk: `PHOTO#${photoKey}` }),
  photoPrefix: 'PHOTO#',
  /** A recurring visitor named as this person (POST /visitors/{visitorId}/name): person erasure covers what is left of it. */
  namedVisitor: (personId: string, visitorId: string) => ({ pk: `PERSON#${personId}`, sk: `VISITOR#${visitorId}` }),
  namedVisitorPrefix: 'VISITOR#',
  /** Sparse index listing every person: only profile items carry it. */
  peopleIndex: (personId: string) => ({ gsi1pk: 'PERSON', gsi1sk: personId }),
} as const;

/** Partition used in the sightings indexes for a face that matched nobody. */
export const UNKNOWN_PERSON = 'UNKNOWN';

/** Visitors table: the value every visitor carries in the byLastSeen index's partition key (one listing of all). */
export const VISITOR_KIND = 'VISITOR';
