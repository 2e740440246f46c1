import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { createFaceSearchConsumer, type FaceSearchConsumerDeps } from '../../../functions/consume-face-search/consumer';
import { cameraResolver } from '../../../shared/domain/sighting';
import type { RecordSightingsSettings } from '../../../shared/use-cases/record-sightings';
import { faceSearchRecord, matchedFace, toBase64 } from '../../fixtures/face-search-records';
import { withFaults } from '../../support/fault-injection';
import { inMemoryPorts } from '../../support/in-memory-consumer-ports';
import { kinesisEvent } from '../../support/kinesis-events';

const STREAM = 'arn:aws:kinesisvideo:us-east-1:123456789012:stream/facewatch-dev-front-door/1700000000000';
const settings: RecordSightingsSettings = {
  sightings: { faceMatchThreshold: 85.5, retentionDays: 30 },
  alerts: { cooldownSeconds: 60, unknownAlerts: false, unknownCooldownSeconds: 60, watchlistOnly: false },
  cameraOf: cameraResolver({ 'front-door': { videoStream: 'facewatch-dev-front-door' } }),
};
const frame = (second: number, person = 'alice') =>
  toBase64(faceSearchRecord({ streamArn: STREAM, producerTimestamp: 1_700_000_000 + second, frameOffset: 0, serverDelay: 0.5, fragmentNumber: String(1000 + second), faces: [{ matches: [matchedFace(person, 97)] }] }));

function consumer(ports: FaceSearchConsumerDeps['ports']) {
  const metrics = { addMetric: jest.fn() };
  const logger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
  const handler = createFaceSearchConsumer({ ports, settings, logger, metrics });
  const metric = (name: string) => metrics.addMetric.mock.calls.filter(([n]) => n === name).reduce((sum, [, , value]) => sum + value, 0);
  return { handler, metrics, logger, metric };
}

describe('face-search consumer (batch handling)', () => {
  it('records every good record of a batch and reports no failure', async () => {
    // Given a batch of three good records, of three people
    const ports = inMemoryPorts();
    const { handler, metric } = consumer(ports);

    // When the consumer handles it
    const response = await handler(kinesisEvent([frame(0), frame(1, 'bob'), frame(2, 'carol')]));

    // Then no record failed, and three sightings, three alerts and their metrics were recorded
    expect(response).toEqual({ batchItemFailures: [] });
    expect(ports.sightings.items.size).toBe(3);
    expect(ports.publisher.people()).toEqual(['alice', 'bob', 'carol']);
    expect(metric('Sightings')).toBe(3);
    expect(metric('AlertsSent')).toBe(3);
  });

  it('logs, counts and skips a poison record without blocking the records around it', async () => {
    // Given a batch with garbage between two good records
    const ports = inMemoryPorts();
    const { handler, metric, logger } = consumer(ports);
    const event = kinesisEvent([frame(0), toBase64('not json at all'), 'not base64 !', toBase64({ hello: 'world' }), frame(1, 'bob')]);

    // When it is handled
    const response = await handler(event);

    // Then the good records are recorded, nothing is reported failed, each poison record is logged with its sequence number
    expect(response).toEqual({ batchItemFailures: [] });
    expect(ports.publisher.people()).toEqual(['alice', 'bob']);
    expect(metric('PoisonRecords')).toBe(3);
    const poisonLogs = logger.warn.mock.calls.filter(([message]) => /not a face-search record/.test(message));
    expect(poisonLogs.map(([, extra]) => extra.sequenceNumber)).toEqual([1, 2, 3].map((i) => event.Records[i].kinesis.sequenceNumber));
    expect(poisonLogs.map(([, extra]) => extra.reason)).toEqual([expect.stringMatching(/not JSON/), expect.stringMatching(/not base64/), expect.stringMatching(/not a face-search record/)]);
  });

  it('succeeds on a batch of nothing but poison records', async () => {
    const { handler, metric } = consumer(inMemoryPorts());
    await expect(handler(kinesisEvent([toBase64('x'), toBase64('{}')]))).resolves.toEqual({ batchItemFailures: [] });
    expect(metric('PoisonRecords')).toBe(2);
  });

  it('on a transient failure at record k, reports k and every later record, and touches none of them', async () => {
    // Given DynamoDB throttles the third sighting write
    const base = inMemoryPorts();
    const ports = { ...base, sightings: withFaults(base.sightings, { putIfAbsent: { failCalls: [2] } }) };
    const { handler } = consumer(ports);
    const event = kinesisEvent([frame(0), frame(1, 'bob'), frame(2, 'carol'), frame(3, 'dave'), frame(4, 'erin')]);

    // When the batch is handled
    const response = await handler(event);

    // Then Lambda is told to resume from record 2; records 3 and 4 were not processed ahead of it
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([2, 3, 4].map((i) => event.Records[i].kinesis.sequenceNumber));
    expect(ports.sightings.calls.putIfAbsent).toHaveLength(3);
    expect(base.publisher.people()).toEqual(['alice', 'bob']);
  });

  it('throws when every record fails transiently (Lambda then retries or bisects the batch)', async () => {
    const base = inMemoryPorts();
    base.publisher.failNext(10);
    const { handler } = consumer(base);
    await expect(handler(kinesisEvent([frame(0), frame(1, 'bob')]))).rejects.toThrow(FullBatchFailureError);
  });

  it('counts alerts held back by the cooldown and measures the processor lag', async () => {
    // Given two records of the same person 10 s apart, within the cooldown
    const ports = inMemoryPorts();
    const { handler, metric, metrics } = consumer(ports);
    // Arrival 1_700_000_001.5, server timestamps 1_700_000_000.5 and 1_700_000_010.5 (the second arrives "before" it: lag 0)
    // When the consumer handles them
    await handler(kinesisEvent([frame(0), frame(10)]));
    // Then one alert is sent and one held back, and the lag of each record is measured
    expect(metric('AlertsSent')).toBe(1);
    expect(metric('AlertsSuppressed')).toBe(1);
    const lags = metrics.addMetric.mock.calls.filter(([n]) => n === 'ProcessorLagSeconds').map(([, unit, value]) => [unit, value]);
    expect(lags).toEqual([
      ['Seconds', 1],
      ['Seconds', 0],
    ]);
  });
});
