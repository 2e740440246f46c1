/** Stream processor state machine and its pluggable runner. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StreamProcessorStore, type StreamProcessorRecord, type RunnerContext } from '../../../local/rekognition/stream-processors';

function record(name: string): StreamProcessorRecord {
  return {
    Name: name,
    StreamProcessorArn: `arn:aws:rekognition:us-east-1:000000000000:streamprocessor/${name}`,
    Status: 'STOPPED',
    CreationTimestamp: 1,
    LastUpdateTimestamp: 1,
    Input: { KinesisVideoStream: { Arn: 'arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam/1' } },
    Output: { KinesisDataStream: { Arn: 'arn:aws:kinesis:us-east-1:000000000000:stream/out' } },
    RoleArn: 'arn:aws:iam::000000000000:role/r',
    Settings: { FaceSearch: { CollectionId: 'c', FaceMatchThreshold: 80 } },
    Region: 'us-east-1',
  };
}

describe('StreamProcessorStore', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rek-sp-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('no-op runner: immediate RUNNING and STOPPED, persisted', () => {
    // Given a processor with the no-op runner
    const s = new StreamProcessorStore(dir);
    const p = record('a');
    s.processors.set('a', p);
    // When it is launched, then it is RUNNING at once
    s.setStatus(p, 'STARTING');
    s.launch(p, 'sess');
    expect(p.Status).toBe('RUNNING');
    // When it is halted, then it is STOPPED at once, and so it is read back from disk
    s.setStatus(p, 'STOPPING');
    s.halt(p);
    expect(p.Status).toBe('STOPPED');
    expect(new StreamProcessorStore(dir).processors.get('a')?.Status).toBe('STOPPED');
  });

  test('async runner, late failure through ctx.fail, resume after restart', async () => {
    // Given a processor whose runner starts asynchronously
    let ctx!: RunnerContext;
    let release!: () => void;
    const starts: string[] = [];
    const runner = {
      start: (p: StreamProcessorRecord, c: RunnerContext) => {
        starts.push(p.Name);
        ctx = c;
        return new Promise<void>((r) => (release = r));
      },
      stop: () => Promise.resolve(),
    };
    const s = new StreamProcessorStore(dir, runner);
    const p = record('b');
    p.SessionId = 'one';
    s.processors.set('b', p);
    // When it is launched, then it is STARTING until the runner has started, then RUNNING
    s.setStatus(p, 'STARTING');
    s.launch(p, 'one');
    expect(p.Status).toBe('STARTING');
    release();
    await Promise.resolve();
    await Promise.resolve();
    expect(p.Status).toBe('RUNNING');
    // When the runner fails later, then the processor is FAILED with its message
    ctx.fail('stream gone');
    expect(p.Status).toBe('FAILED');
    expect(p.StatusMessage).toBe('stream gone');
    // When the store restarts with the processor RUNNING, then its runner starts it again and it stays RUNNING
    s.setStatus(p, 'RUNNING');
    const restarted = new StreamProcessorStore(dir, { start: (q) => void starts.push(`again:${q.Name}`), stop: () => undefined });
    restarted.resume();
    expect(starts).toEqual(['b', 'again:b']);
    expect(restarted.processors.get('b')?.Status).toBe('RUNNING');
  });

  test('a throwing runner leaves the processor FAILED', () => {
    // Given a processor whose runner throws
    const s = new StreamProcessorStore(dir, { start: () => { throw new Error('no role'); }, stop: () => undefined });
    const p = record('c');
    s.processors.set('c', p);
    s.setStatus(p, 'STARTING');
    // When it is launched
    s.launch(p, 'x');
    // Then it is FAILED with the runner's message
    expect(p.Status).toBe('FAILED');
    expect(p.StatusMessage).toBe('no role');
  });
});
