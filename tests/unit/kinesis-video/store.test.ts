import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Store, type FragmentMeta } from '../../../local/kinesis-video/store';

const meta = (number: string, serverMs: number, size = 100): FragmentMeta => ({
  number, producerMs: serverMs, serverMs, durationMs: 1000, sizeBytes: size, headerBytes: 10, clusterTimecodeMs: 0, frames: 25,
});

describe('Store', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'kvs-store-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates streams with AWS-shaped ARNs and refuses duplicates and bad names', () => {
    const store = new Store({ dataDir: dir, region: 'eu-west-1' });
    // When a stream is created, then its ARN has AWS's shape
    const r = store.createStream({ StreamName: 'cam.1', DataRetentionInHours: 2 });
    expect(r.StreamARN).toMatch(/^arn:aws:kinesisvideo:eu-west-1:000000000000:stream\/cam\.1\/\d{13}$/);
    // When its name is taken again, a name is invalid or a stream is missing, then AWS's error is thrown; its ARN finds it
    expect(() => store.createStream({ StreamName: 'cam.1' })).toThrow(expect.objectContaining({ type: 'ResourceInUseException' }));
    expect(() => store.createStream({ StreamName: 'bad name' })).toThrow(expect.objectContaining({ type: 'InvalidArgumentException' }));
    expect(() => store.getStream({ StreamName: 'nope' })).toThrow(expect.objectContaining({ type: 'ResourceNotFoundException' }));
    expect(store.getStream({ StreamARN: r.StreamARN }).StreamName).toBe('cam.1');
  });

  it('numbers fragments with strictly increasing 47-digit strings', () => {
    const store = new Store({ dataDir: dir, region: 'us-east-1' });
    const r = store.createStream({ StreamName: 's' });
    // When 50 fragment numbers are taken, then each has 47 digits and each is above the one before
    const numbers = Array.from({ length: 50 }, () => store.nextFragmentNumber(r));
    for (const n of numbers) expect(n).toMatch(/^\d{47}$/);
    for (let i = 1; i < numbers.length; i++) expect(BigInt(numbers[i]) > BigInt(numbers[i - 1])).toBe(true);
  });

  it('persists fragments across restarts and evicts the oldest over the byte budget', async () => {
    // Given a store of at most 250 bytes
    const store = new Store({ dataDir: dir, region: 'us-east-1', maxBytes: 250 });
    const r = store.createStream({ StreamName: 's', DataRetentionInHours: 1 });
    const now = Date.now();
    const numbers: string[] = [];
    // When three fragments of 100 bytes are added
    for (let i = 0; i < 3; i++) {
      const n = store.nextFragmentNumber(r);
      numbers.push(n);
      await store.addFragment(r, meta(n, now + i), Buffer.alloc(100, i));
    }
    // Then the oldest is evicted
    expect(store.fragments(r).map((f) => f.number)).toEqual(numbers.slice(1)); // 300 bytes > 250: oldest gone

    // When the store is reopened, then the other two are there with their bytes
    const reopened = new Store({ dataDir: dir, region: 'us-east-1', maxBytes: 250 });
    const r2 = reopened.getStream({ StreamName: 's' });
    expect(reopened.fragments(r2).map((f) => f.number)).toEqual(numbers.slice(1));
    expect((await reopened.readFragment(r2, reopened.fragments(r2)[0]))[0]).toBe(1);
    // numbering continues above what is on disk
    expect(BigInt(reopened.nextFragmentNumber(r2)) > BigInt(numbers[2])).toBe(true);
  });

  it('evicts fragments older than the stream retention', async () => {
    const store = new Store({ dataDir: dir, region: 'us-east-1' });
    const r = store.createStream({ StreamName: 's', DataRetentionInHours: 1 });
    const now = Date.now();
    // Given a stream with a retention of 1 h, a fragment of 2 h ago and one of now
    await store.addFragment(r, meta(store.nextFragmentNumber(r), now - 2 * 3_600_000), Buffer.alloc(10));
    await store.addFragment(r, meta(store.nextFragmentNumber(r), now), Buffer.alloc(10));
    // When the retention is enforced
    store.enforceRetention(now);
    // Then only the recent fragment is left
    expect(store.fragments(r)).toHaveLength(1);
    expect(store.fragments(r)[0].serverMs).toBe(now);
  });
});
