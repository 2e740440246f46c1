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
    const s = new StreamProcessorStore(dir);
    const p = record('a');
    s.processors.set('a', p);
    s.setStatus(p, 'STARTING');
    s.launch(p, 'sess');
    expect(p.Status).toBe('RUNNING');
    s.setStatus(p, 'STOPPING');
    s.halt(p);
    expect(p.Status).toBe('STOPPED');
    expect(new StreamProcessorStore(dir).processors.get('a')?.Status).toBe('STOPPED');
  });

  test('async runner, late failure through ctx.fail, resume after restart', async () => {
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
    s.setStatus(p, 'STARTING');
    s.launch(p, 'one');
    expect(p.Status).toBe('STARTING');
    release();
    await Promise.resolve();
    await Promise.resolve();
    expect(p.Status).toBe('RUNNING');
    ctx.fail('stream gone');
    expect(p.Status).toBe('FAILED');
    expect(p.StatusMessage).toBe('stream gone');
    // A RUNNING processor is started again after a restart.
    s.setStatus(p, 'RUNNING');
    const restarted = new StreamProcessorStore(dir, { start: (q) => void starts.push(`again:${q.Name}`), stop: () => undefined });
    restarted.resume();
    expect(starts).toEqual(['b', 'again:b']);
    expect(restarted.processors.get('b')?.Status).toBe('RUNNING');
  });

  test('a throwing runner leaves the processor FAILED', () => {
    const s = new StreamProcessorStore(dir, { start: () => { throw new Error('no role'); }, stop: () => undefined });
    const p = record('c');
    s.processors.set('c', p);
    s.setStatus(p, 'STARTING');
    s.launch(p, 'x');
    expect(p.Status).toBe('FAILED');
    expect(p.StatusMessage).toBe('no role');
  });
});
