import { recordSightings, type RecordSightingsSettings } from '../../../shared/use-cases/record-sightings';
import { alertsRemembered, lastSeenEvery } from '../../../shared/use-cases/record-sightings';
import { cameraResolver } from '../../../shared/domain/sighting';
import { UNKNOWN_PERSON } from '../../../shared/tables';
import { faceSearchRecord, matchedFace } from '../../fixtures/face-search-records';
import { withFaults } from '../../support/fault-injection';
import { inMemoryPorts } from '../../support/in-memory-consumer-ports';

const STREAM = 'arn:aws:kinesisvideo:us-east-1:123456789012:stream/facewatch-dev-front-door/1700000000000';
const settings: RecordSightingsSettings = {
  sightings: { faceMatchThreshold: 85.5, retentionDays: 30 },
  alerts: { cooldownSeconds: 60, unknownAlerts: false, unknownCooldownSeconds: 60, watchlistOnly: false },
  cameraOf: cameraResolver({ 'front-door': { videoStream: 'facewatch-dev-front-door' } }),
};
const profiles = {
  alice: { displayName: 'Alice', rules: { muted: false, watchlist: true } },
  bob: { displayName: 'Bob', rules: { muted: true, watchlist: false } },
};
const frame = (second: number, faces: { matches: ReturnType<typeof matchedFace>[] }[]) =>
  faceSearchRecord({ streamArn: STREAM, producerTimestamp: 1_700_000_000 + second, frameOffset: 0, fragmentNumber: String(1000 + second), faces });

describe('recordSightings', () => {
  it('writes the sightings of a record and alerts once for a known person', async () => {
    // Given Alice and an unknown face in one frame
    const ports = inMemoryPorts(profiles);

    // When the record is processed
    const outcome = await recordSightings(frame(0, [{ matches: [matchedFace('alice', 97)] }, { matches: [] }]), ports, settings);

    // Then both sightings are stored, Alice alerted by name, the unknown face did not (off by default)
    expect(outcome.created).toBe(2);
    expect([...ports.sightings.items.values()].map((s) => [s.personId, s.camera])).toEqual([
      ['alice', 'front-door'],
      [UNKNOWN_PERSON, 'front-door'],
    ]);
    expect(ports.publisher.people()).toEqual(['alice']);
    expect(JSON.parse(ports.publisher.published[0].message).sms).toMatch(/^facewatch: Alice at front-door/);
    expect(outcome.alerts.map((a) => a.result)).toEqual(['sent', 'not-alerted']);
    expect(ports.people.lastSeen.get('alice')).toEqual({ seenAt: '2023-11-14T22:13:20.000Z', camera: 'front-door' });
  });

  it('writes nothing new and sends nothing again when the same record is delivered twice', async () => {
    const ports = inMemoryPorts(profiles);
    const record = frame(0, [{ matches: [matchedFace('alice', 97)] }]);
    await recordSightings(record, ports, settings);

    const again = await recordSightings(record, ports, settings);

    expect(again.created).toBe(0);
    expect(again.alerts.map((a) => a.result)).toEqual(['suppressed']);
    expect(ports.sightings.items.size).toBe(1);
    expect(ports.publisher.published).toHaveLength(1);
  });

  it('holds alerts for the same person and camera within the cooldown, and alerts again after it', async () => {
    const ports = inMemoryPorts(profiles);
    const results = [];
    for (const second of [0, 30, 59, 60, 61]) {
      const outcome = await recordSightings(frame(second, [{ matches: [matchedFace('alice', 97)] }]), ports, settings);
      results.push(outcome.alerts[0].result);
    }
    expect(results).toEqual(['sent', 'suppressed', 'suppressed', 'sent', 'suppressed']);
    expect(ports.sightings.items.size).toBe(5);
  });

  it('keeps sightings of a muted person but never alerts for them', async () => {
    const ports = inMemoryPorts(profiles);
    const outcome = await recordSightings(frame(0, [{ matches: [matchedFace('bob', 99)] }]), ports, settings);
    expect(outcome.created).toBe(1);
    expect(outcome.alerts).toEqual([expect.objectContaining({ result: 'not-alerted', reason: 'muted' })]);
    expect(ports.publisher.published).toHaveLength(0);
  });

  it('alerts for unknown faces when switched on, once per camera per unknown cooldown', async () => {
    const ports = inMemoryPorts(profiles);
    const unknownOn = { ...settings, alerts: { ...settings.alerts, unknownAlerts: true, unknownCooldownSeconds: 120 } };
    await recordSightings(frame(0, [{ matches: [] }, { matches: [] }]), ports, unknownOn);
    await recordSightings(frame(100, [{ matches: [] }]), ports, unknownOn);
    await recordSightings(frame(120, [{ matches: [] }]), ports, unknownOn);
    expect(ports.publisher.people()).toEqual([UNKNOWN_PERSON, UNKNOWN_PERSON]);
  });

  it('after a failed publish, the retry of the record publishes that alert exactly once', async () => {
    // Given SNS fails once
    const ports = inMemoryPorts(profiles);
    ports.publisher.failNext();
    const record = frame(0, [{ matches: [matchedFace('alice', 97)] }]);

    // When the record fails, then is retried twice more
    await expect(recordSightings(record, ports, settings)).rejects.toThrow('Injected SNS outage');
    const retry = await recordSightings(record, ports, settings);
    const another = await recordSightings(record, ports, settings);

    // Then the claim made by the failed attempt was resumed once, and the alert went out once
    expect(retry.alerts[0].result).toBe('resent');
    expect(another.alerts[0].result).toBe('suppressed');
    expect(ports.publisher.published).toHaveLength(1);
  });

  it('after a crash during Publish (the alert may be out), the redelivered record does not publish it again', async () => {
    // Given an attempt whose process dies inside Publish: the message reaches SNS, no answer comes back
    const ports = inMemoryPorts(profiles);
    const record = frame(0, [{ matches: [matchedFace('alice', 97)] }]);
    const crashing = {
      ...ports,
      publisher: {
        publish: async (message: Parameters<typeof ports.publisher.publish>[0]) => {
          await ports.publisher.publish(message);
          return new Promise<string>(() => undefined); // never answers: the process is gone
        },
      },
    };
    void recordSightings(record, crashing, settings);
    await new Promise((r) => setImmediate(r));
    expect(ports.publisher.published).toHaveLength(1);

    // When the mapping redelivers the record to a new process
    const redelivered = await recordSightings(record, ports, settings);

    // Then the alert is not published a second time (at most once for the crashed window)
    expect(redelivered.alerts[0].result).toBe('suppressed');
    expect(ports.publisher.published).toHaveLength(1);
    expect(ports.alertState.items.values().next().value?.status).toBe('sending');
  });

  it('does not fail the record when the alert went out but could not be marked sent', async () => {
    const base = inMemoryPorts(profiles);
    const ports = { ...base, alertState: withFaults(base.alertState, { markSent: { failCalls: [0] } }) };
    const outcome = await recordSightings(frame(0, [{ matches: [matchedFace('alice', 97)] }]), ports, settings);
    expect(outcome.alerts[0].result).toBe('sent');
    expect(base.logger.warn).toHaveBeenCalledWith(expect.stringContaining('not marked sent'), expect.objectContaining({ sightingId: outcome.sightings[0].sightingId }));
    // and a redelivery does not publish it again
    await recordSightings(frame(0, [{ matches: [matchedFace('alice', 97)] }]), ports, settings);
    expect(base.publisher.published).toHaveLength(1);
  });

  it('fails the record when a store fails, so that the caller retries it', async () => {
    const base = inMemoryPorts(profiles);
    const ports = { ...base, sightings: withFaults(base.sightings, { putIfAbsent: { failCalls: [0] } }) };
    await expect(recordSightings(frame(0, [{ matches: [matchedFace('alice', 97)] }]), ports, settings)).rejects.toThrow(/throughput/);
    expect(base.publisher.published).toHaveLength(0);
  });
});

describe('lastSeenEvery', () => {
  it('given a face seen five times a second, when its sightings are recorded, then lastSeenAt is written at most every interval per camera', async () => {
    // given
    const writes: string[] = [];
    const people = { get: async () => undefined, recordLastSeen: async (id: string, seenAt: string, camera: string) => void writes.push(`${id}@${camera}@${seenAt.slice(17, 23)}`) };
    const throttled = lastSeenEvery(people, 10_000);
    // when: 25 s of frames 200 ms apart on one camera, one frame on another
    for (let ms = 0; ms <= 25_000; ms += 200) await throttled.recordLastSeen('ann', new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ms)).toISOString(), 'door');
    await throttled.recordLastSeen('ann', new Date(Date.UTC(2026, 0, 1, 0, 0, 3)).toISOString(), 'yard');
    // then
    expect(writes).toEqual(['ann@door@00.000', 'ann@door@10.000', 'ann@door@20.000', 'ann@yard@03.000']);
  });
});

describe('alertsRemembered', () => {
  it('given an alert this process sent, when later frames come within the cooldown, then they are suppressed without asking the store', async () => {
    // given
    const asked: number[] = [];
    const store = {
      claim: async (c: { frameTimeMs: number }) => (asked.push(c.frameTimeMs), 'claimed' as const),
      markSending: async () => true,
      releaseSending: async () => undefined,
      markSent: async () => undefined,
    };
    const remembered = alertsRemembered(store);
    const claim = (frameTimeMs: number, sightingId = `s${frameTimeMs}`) => ({ personId: 'ann', camera: 'door', sightingId, frameTimeMs, cooldownMs: 60_000 });
    // when
    expect(await remembered.claim(claim(1_000))).toBe('claimed');
    expect(await remembered.claim(claim(1_000))).toBe('claimed'); // not sent yet: the store decides (a retry resumes)
    await remembered.markSent(claim(1_000), 'm1');
    const within = await remembered.claim(claim(30_000));
    const other = await remembered.claim({ ...claim(30_000), camera: 'yard' });
    const after = await remembered.claim(claim(61_000));
    // then
    expect([within, other, after]).toEqual(['suppressed', 'claimed', 'claimed']);
    expect(asked).toEqual([1_000, 1_000, 30_000, 61_000]);
  });
});
