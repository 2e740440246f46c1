import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { DynamoAlertStateStore } from '../../../shared/adapters/alert-state-store';
import { DynamoPersonRules } from '../../../shared/adapters/person-rules';
import { DynamoSightingStore } from '../../../shared/adapters/sighting-store';
import { evaluateClaim, type AlertClaim } from '../../../shared/domain/alert-policy';
import { alertStateKey, type AlertState } from '../../../shared/domain/model';
import { sightingsFromRecord } from '../../../shared/domain/sighting';
import { peopleKeys, tables } from '../../../shared/tables';
import { seedRecord } from '../../fixtures/face-search-records';
import { createTables, startLocalAws, type LocalAws } from '../../support/local-aws';

describe('consumer DynamoDB adapters (dynalite, tables from resources/tables.yml)', () => {
  let aws: LocalAws;
  let names: Record<string, string>;

  beforeAll(async () => {
    aws = await startLocalAws({ dynamodb: true });
    names = await createTables(aws.dynamodb, 'adapters');
  });
  afterAll(() => aws.stop());

  describe('DynamoSightingStore', () => {
    it('writes a sighting once: a second write of the same id changes nothing', async () => {
      // Given a sighting
      const store = new DynamoSightingStore(aws.documents, names.SightingsTable);
      const [sighting] = sightingsFromRecord(seedRecord(), 'porch', { faceMatchThreshold: 85.5, retentionDays: 30 });

      // When written twice, the second time with something changed
      const first = await store.putIfAbsent(sighting);
      const second = await store.putIfAbsent({ ...sighting, camera: 'changed' });

      // Then only the first write landed, with its TTL attribute
      expect([first, second]).toEqual(['created', 'exists']);
      const { Item } = await aws.documents.send(new GetCommand({ TableName: names.SightingsTable, Key: { [tables.sightings.partitionKey]: sighting.sightingId } }));
      expect(Item).toMatchObject({ camera: 'porch', personId: 'Josh', [tables.sightings.ttlAttribute]: sighting.expiresAt, fragmentNumber: sighting.fragmentNumber });
    });
  });

  describe('DynamoAlertStateStore', () => {
    let run = 0;
    const claim = (personId: string, sightingId: string, frameTimeMs: number, cooldownMs = 60_000): AlertClaim => ({ personId, camera: 'porch', sightingId, frameTimeMs, cooldownMs });

    it('enforces the same rule as evaluateClaim, for any sequence of claims and publishes', async () => {
      const store = new DynamoAlertStateStore(aws.documents, names.AlertStateTable);
      const step = fc.record({ sighting: fc.constantFrom('s1', 's2', 's3', 's4'), second: fc.integer({ min: 0, max: 200 }), publish: fc.boolean() });
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
          // Given a fresh person, and the rule's model of the alert state
          run += 1;
          const person = `p${run}`;
          let model: Pick<AlertState, 'sightingId' | 'lastAlertAt' | 'status'> | undefined;
          for (const { sighting, second, publish } of steps) {
            const c = claim(person, `${sighting}`, 1_700_000_000_000 + second * 1000);
            // When the store and the rule see the same claim
            const expected = evaluateClaim(model, c);
            const actual = await store.claim(c);
            // Then they agree
            expect(actual).toBe(expected);
            if (expected !== 'suppressed') model = { sightingId: c.sightingId, lastAlertAt: c.frameTimeMs, status: 'pending' };
            if (expected !== 'suppressed' && publish) {
              await store.markSent(c, `m-${sighting}`);
              model = { ...model!, status: 'sent' };
            }
          }
        }),
        { numRuns: 40 },
      );
    });

    it('lets exactly one of many concurrent claims for the same window through', async () => {
      const store = new DynamoAlertStateStore(aws.documents, names.AlertStateTable);
      const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => store.claim(claim('concurrent', `s${i}`, 1_700_000_000_000 + i))));
      expect(outcomes.filter((o) => o === 'claimed')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'suppressed')).toHaveLength(11);
    });

    it('claims the send before Publish: only a pending claim becomes sending; a release makes it pending again; a sending claim is never resumed', async () => {
      const store = new DynamoAlertStateStore(aws.documents, names.AlertStateTable);
      // Given an alert claimed for person sending on the porch
      const c = claim('sending', 'sy', 1_700_000_000_000);
      expect(await store.claim(c)).toBe('claimed');
      // When it is marked sending twice, then only the first succeeds, and a redelivery's claim is suppressed
      expect(await store.markSending(c)).toBe(true);
      expect(await store.markSending(c)).toBe(false);
      expect(await store.claim(c)).toBe('suppressed'); // a redelivery after a crash during Publish
      // When the send is released, then the next claim resumes it; a claim that is not the holder's cannot mark it sending
      await store.releaseSending(c);
      expect(await store.claim(c)).toBe('resumed'); // SNS answered with an error: the retry publishes
      expect(await store.markSending(claim('sending', 'other', 1_700_000_000_000))).toBe(false);
    });

    it('stores the window with the sighting, its status, the message id and a TTL', async () => {
      const store = new DynamoAlertStateStore(aws.documents, names.AlertStateTable);
      // Given an alert claimed
      const c = claim('stored', 'sx', 1_700_000_000_000);
      await store.claim(c);
      // When it is marked sent with its message id
      await store.markSent(c, 'message-1');
      // Then its item holds the person, camera, sighting, frame time, status, message id and a TTL after the frame
      const { Item } = await aws.documents.send(new GetCommand({ TableName: names.AlertStateTable, Key: { [tables.alertState.partitionKey]: alertStateKey('stored', 'porch') } }));
      expect(Item).toMatchObject({ personId: 'stored', camera: 'porch', sightingId: 'sx', lastAlertAt: c.frameTimeMs, status: 'sent', messageId: 'message-1' });
      expect(Item?.[tables.alertState.ttlAttribute]).toBeGreaterThan(c.frameTimeMs / 1000);
    });
  });

  describe('DynamoPersonRules', () => {
    const profile = (personId: string, extra: Record<string, unknown> = {}) => ({
      ...peopleKeys.person(personId),
      ...peopleKeys.peopleIndex(personId),
      personId,
      displayName: `Name of ${personId}`,
      rules: { muted: false, watchlist: true },
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:00.000Z',
      ...extra,
    });

    it('reads the display name and alert rules of a profile, and nothing for a person without one', async () => {
      const people = new DynamoPersonRules(aws.documents, names.PeopleTable);
      // Given a profile with rules and one stored before rules existed
      await aws.documents.send(new PutCommand({ TableName: names.PeopleTable, Item: profile('reader') }));
      await aws.documents.send(new PutCommand({ TableName: names.PeopleTable, Item: profile('legacy', { rules: undefined }) }));

      // When they are read, then each has its display name and rules (the defaults for the older one); a person without a profile has none
      expect(await people.get('reader')).toEqual({ displayName: 'Name of reader', rules: { muted: false, watchlist: true } });
      expect(await people.get('legacy')).toEqual({ displayName: 'Name of legacy', rules: { muted: false, watchlist: false } });
      expect(await people.get('nobody')).toBeUndefined();
    });

    it('moves lastSeenAt forward only, and never creates a profile', async () => {
      // Given a profile
      const people = new DynamoPersonRules(aws.documents, names.PeopleTable);
      await aws.documents.send(new PutCommand({ TableName: names.PeopleTable, Item: profile('walker') }));

      // When sightings arrive out of order, and one for a person without a profile
      await people.recordLastSeen('walker', '2024-05-01T10:00:00.000Z', 'porch');
      await people.recordLastSeen('walker', '2024-05-01T09:00:00.000Z', 'garage');
      await people.recordLastSeen('ghost', '2024-05-01T10:00:00.000Z', 'porch');

      // Then the latest one is kept, the rest of the profile untouched, and no profile appeared
      const { Item } = await aws.documents.send(new GetCommand({ TableName: names.PeopleTable, Key: peopleKeys.person('walker') }));
      expect(Item).toMatchObject({ lastSeenAt: '2024-05-01T10:00:00.000Z', lastSeenCamera: 'porch', displayName: 'Name of walker', rules: { muted: false, watchlist: true } });
      const ghost = await aws.documents.send(new GetCommand({ TableName: names.PeopleTable, Key: peopleKeys.person('ghost') }));
      expect(ghost.Item).toBeUndefined();
    });
  });
});
