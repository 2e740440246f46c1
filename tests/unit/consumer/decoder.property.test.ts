import fc from 'fast-check';
import { createFaceSearchConsumer } from '../../../functions/consume-face-search/consumer';
import { decodeFaceSearchRecord } from '../../../shared/domain/face-search-record';
import { cameraResolver } from '../../../shared/domain/sighting';
import { PermanentInputError } from '../../../shared/errors';
import { realisticRecords, toBase64 } from '../../fixtures/face-search-records';
import { inMemoryPorts } from '../../support/in-memory-consumer-ports';
import { kinesisEvent } from '../../support/kinesis-events';

const settings = {
  sightings: { faceMatchThreshold: 85.5, retentionDays: 30 },
  alerts: { cooldownSeconds: 60, unknownAlerts: true, unknownCooldownSeconds: 60, watchlistOnly: false },
  cameraOf: cameraResolver({}),
};
const quiet = () => ({ debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() });
const valid = realisticRecords(20);

/** Arbitrary Kinesis data: random bytes, random text, random JSON, and valid records with a field broken. */
const anyData = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  fc.string({ maxLength: 200 }),
  fc.jsonValue({ maxDepth: 4 }).map((value) => toBase64(JSON.stringify(value) ?? 'null')),
  fc
    .tuple(fc.constantFrom(...valid), fc.constantFrom('InputInformation', 'FaceSearchResponse', 'StreamProcessorInformation'), fc.jsonValue({ maxDepth: 2 }))
    .map(([record, field, value]) => toBase64({ ...record, [field]: value })),
);

describe('decoder and handler under arbitrary input (property-based)', () => {
  it('the decoder either returns a record or throws PermanentInputError, nothing else', () => {
    fc.assert(
      fc.property(anyData, (data) => {
        try {
          const record = decodeFaceSearchRecord(data);
          return typeof record.InputInformation.KinesisVideo.FragmentNumber === 'string' && Array.isArray(record.FaceSearchResponse);
        } catch (error) {
          return error instanceof PermanentInputError && error.message.length > 0;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('arbitrary records never throw out of the handler and never fail a batch; the valid ones among them are all recorded', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(anyData, fc.constantFrom(...valid).map((r) => toBase64(r))), { minLength: 1, maxLength: 12 }), async (batch) => {
        const ports = inMemoryPorts();
        const handler = createFaceSearchConsumer({ ports, settings, logger: quiet(), metrics: { addMetric: jest.fn() } });

        const response = await handler(kinesisEvent(batch));

        const expected = new Set<string>();
        for (const data of batch) {
          try {
            const record = decodeFaceSearchRecord(data);
            record.FaceSearchResponse.forEach((_, i) => expected.add(`${record.InputInformation.KinesisVideo.FragmentNumber}/${record.InputInformation.KinesisVideo.FrameOffsetInSeconds}/${i}`));
          } catch {
            // poison: skipped
          }
        }
        const stored = new Set([...ports.sightings.items.values()].map((s) => `${s.fragmentNumber}/${s.frameOffsetInSeconds}/${s.faceIndex}`));
        expect(response.batchItemFailures).toEqual([]);
        expect(stored).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('deeply nested JSON, 1 MB strings and random bytes are skipped and counted; the valid records around them are recorded', async () => {
    const depth = 100_000;
    const nested = toBase64('['.repeat(depth) + ']'.repeat(depth));
    const nestedObject = toBase64('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
    const megabyte = toBase64(JSON.stringify({ ...valid[0], FaceSearchResponse: 'x'.repeat(1024 * 1024) }));
    const megabyteString = toBase64(JSON.stringify('y'.repeat(1024 * 1024)));
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 4096 }), fc.shuffledSubarray([nested, nestedObject, megabyte, megabyteString], { minLength: 1 }), async (bytes, poison) => {
        const ports = inMemoryPorts();
        const metrics = { addMetric: jest.fn() };
        const handler = createFaceSearchConsumer({ ports, settings, logger: quiet(), metrics });
        const batch = [toBase64(valid[1]), Buffer.from(bytes).toString('base64'), ...poison, toBase64(valid[2])];

        const response = await handler(kinesisEvent(batch));

        // never blocks the shard: no failure reported, the valid records on both sides recorded
        expect(response.batchItemFailures).toEqual([]);
        const faces = valid[1].FaceSearchResponse.length + valid[2].FaceSearchResponse.length;
        expect(ports.sightings.items.size).toBe(faces);
        // and every skipped record is counted
        const skipped = metrics.addMetric.mock.calls.filter(([name]) => name === 'PoisonRecords').reduce((n, call) => n + Number(call[2] ?? 1), 0);
        expect(skipped).toBeGreaterThanOrEqual(poison.length);
      }),
      { numRuns: 8 },
    );
  });
});
