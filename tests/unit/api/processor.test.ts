import type { Camera } from '../../../shared/domain/camera';
import { ConflictError, NotFoundError } from '../../../shared/errors';
import {
  ProcessorBusyError,
  ProcessorNotFoundError,
  describeProcessors,
  startProcessors,
  stopProcessors,
  type ProcessorPort,
  type ProcessorState,
  type ProcessorStatus,
} from '../../../shared/use-cases/processor';

const camera = (name: string): Camera => ({ camera: name, videoStream: `v-${name}`, dataStream: `d-${name}`, processor: `p-${name}` });
const CAMERAS = [camera('front-door'), camera('garage')];

/** A processor per camera whose state machine is scripted: transitions settle immediately unless told otherwise. */
class FakeProcessors implements ProcessorPort {
  readonly mode = 'managed' as const;
  readonly calls: string[] = [];
  constructor(
    readonly states: Record<string, ProcessorState>,
    readonly busy: Record<string, ProcessorState> = {},
  ) {}
  async describe(c: Camera): Promise<ProcessorStatus> {
    const state = this.states[c.camera];
    if (!state) throw new ProcessorNotFoundError(c.camera, c.processor);
    return { camera: c.camera, mode: 'managed', name: c.processor, state, videoStream: { name: c.videoStream }, dataStream: { name: c.dataStream }, settings: {} };
  }
  async start(c: Camera) {
    this.calls.push(`start ${c.camera}`);
    if (this.busy[c.camera]) throw new ProcessorBusyError(c.camera, 'in use');
    this.states[c.camera] = 'STARTING';
  }
  async stop(c: Camera) {
    this.calls.push(`stop ${c.camera}`);
    if (this.busy[c.camera]) throw new ProcessorBusyError(c.camera, 'in use');
    this.states[c.camera] = 'STOPPING';
  }
}

describe('startProcessors', () => {
  it('starts every stopped processor when no camera is given', async () => {
    const processor = new FakeProcessors({ 'front-door': 'STOPPED', garage: 'STOPPED' });
    const result = await startProcessors({ processor, cameras: CAMERAS });
    expect(processor.calls).toEqual(['start front-door', 'start garage']);
    expect(result.map((r) => [r.camera, r.state, r.changed])).toEqual([
      ['front-door', 'STARTING', true],
      ['garage', 'STARTING', true],
    ]);
  });

  it('answers the current state of a running processor without starting it again', async () => {
    const processor = new FakeProcessors({ 'front-door': 'RUNNING', garage: 'STOPPED' });
    const result = await startProcessors({ processor, cameras: CAMERAS }, 'front-door');
    expect(processor.calls).toEqual([]);
    expect(result).toEqual([expect.objectContaining({ camera: 'front-door', state: 'RUNNING', changed: false })]);
  });

  it('is a 409 with the state when the processor is mid-transition', async () => {
    const processor = new FakeProcessors({ 'front-door': 'STOPPING', garage: 'STOPPED' }, { 'front-door': 'STOPPING' });
    const error = await startProcessors({ processor, cameras: CAMERAS }).catch((e) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.details.conflicts).toEqual([{ camera: 'front-door', state: 'STOPPING' }]);
    // the other camera was still started
    expect(processor.states.garage).toBe('STARTING');
    expect(error.message).toContain('"front-door" is STOPPING');
  });

  it('is not a conflict when the refused processor has meanwhile reached RUNNING', async () => {
    const processor = new FakeProcessors({ 'front-door': 'STARTING' });
    processor.start = async () => {
      processor.states['front-door'] = 'RUNNING';
      throw new ProcessorBusyError('front-door', 'in use');
    };
    const result = await startProcessors({ processor, cameras: [CAMERAS[0]] });
    expect(result).toEqual([expect.objectContaining({ state: 'RUNNING', changed: false })]);
  });

  it('is a 404 naming the known cameras for an unknown camera', async () => {
    const processor = new FakeProcessors({ 'front-door': 'STOPPED' });
    const error = await startProcessors({ processor, cameras: CAMERAS }, 'attic').catch((e) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toContain('front-door, garage');
  });

  it('is a 404 when the processor does not exist', async () => {
    const processor = new FakeProcessors({});
    await expect(startProcessors({ processor, cameras: CAMERAS }, 'garage')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('stopProcessors', () => {
  it.each(['STOPPED', 'FAILED'] as const)('leaves a %s processor alone', async (state) => {
    const processor = new FakeProcessors({ 'front-door': state });
    const result = await stopProcessors({ processor, cameras: [CAMERAS[0]] });
    expect(processor.calls).toEqual([]);
    expect(result[0]).toMatchObject({ state, changed: false });
  });

  it('stops a running processor', async () => {
    const processor = new FakeProcessors({ 'front-door': 'RUNNING' });
    const result = await stopProcessors({ processor, cameras: [CAMERAS[0]] });
    expect(processor.calls).toEqual(['stop front-door']);
    expect(result[0]).toMatchObject({ state: 'STOPPING', changed: true });
  });
});

describe('describeProcessors', () => {
  it('describes one camera or all', async () => {
    const processor = new FakeProcessors({ 'front-door': 'RUNNING', garage: 'STOPPED' });
    expect((await describeProcessors({ processor, cameras: CAMERAS })).map((s) => s.state)).toEqual(['RUNNING', 'STOPPED']);
    expect((await describeProcessors({ processor, cameras: CAMERAS }, 'garage')).map((s) => s.camera)).toEqual(['garage']);
  });
});
