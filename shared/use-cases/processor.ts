import type { Camera } from '../domain/camera';
import { ConflictError, NotFoundError } from '../errors';

/**
 * The face-search processor of each camera, whatever runs it: Rekognition's managed stream processor
 * (`managed`) or our own frame sampler (`self`, a later addition). The API's use cases see only this port.
 */
export type ProcessorState = 'STOPPED' | 'STARTING' | 'RUNNING' | 'FAILED' | 'STOPPING' | 'UPDATING';

export type ProcessorMode = 'managed' | 'self';

export interface ProcessorStatus {
  camera: string;
  mode: ProcessorMode;
  name: string;
  state: ProcessorState;
  statusMessage?: string;
  /** ISO time of the last state change. */
  lastChangeAt?: string;
  createdAt?: string;
  /** Self processor: the time of the last analysed frame (the video's clock), as of its last checkpoint. */
  lastFrameAt?: string;
  /** Self processor: how far behind live video that frame was when it was checkpointed, in seconds. */
  lagSeconds?: number;
  /** Self processor: frames analysed in this session. */
  framesAnalysed?: number;
  videoStream: { name: string; arn?: string };
  dataStream: { name: string; arn?: string };
  settings: { collectionId?: string; faceMatchThreshold?: number };
}

export interface ProcessorPort {
  readonly mode: ProcessorMode;
  /** Throws ProcessorNotFoundError when the camera has no processor. */
  describe(camera: Camera): Promise<ProcessorStatus>;
  /** Throws ProcessorBusyError when the processor refuses the transition (mid-transition). */
  start(camera: Camera): Promise<void>;
  stop(camera: Camera): Promise<void>;
}

/** The processor cannot change state now (Rekognition's ResourceInUse while STARTING/STOPPING). */
export class ProcessorBusyError extends Error {
  override readonly name = 'ProcessorBusyError';
  constructor(readonly camera: string, detail: string) {
    super(detail);
  }
}

export class ProcessorNotFoundError extends Error {
  override readonly name = 'ProcessorNotFoundError';
  constructor(readonly camera: string, readonly processor: string) {
    super(`The face-search processor "${processor}" of camera "${camera}" does not exist: deploy with --param="processorMode=managed" (or start the local stack)`);
  }
}

export interface ProcessorPorts {
  processor: ProcessorPort;
  /** Every configured camera. */
  cameras: readonly Camera[];
}

export interface ProcessorChange extends ProcessorStatus {
  /** False when the processor already was in the asked state (nothing was done). */
  changed: boolean;
}

/** One camera, or every camera when none is given. An unknown camera is a 404 naming the known ones. */
export function selectCameras(cameras: readonly Camera[], camera?: string): Camera[] {
  if (camera === undefined) return [...cameras];
  const found = cameras.find((c) => c.camera === camera);
  if (!found) {
    throw new NotFoundError(`Camera "${camera}" is not configured: known cameras are ${cameras.map((c) => c.camera).join(', ')}`, {
      field: 'camera',
    });
  }
  return [found];
}

export async function describeProcessors(ports: ProcessorPorts, camera?: string): Promise<ProcessorStatus[]> {
  return Promise.all(selectCameras(ports.cameras, camera).map((c) => describe(ports.processor, c)));
}

/** Starts the processor(s); already RUNNING is not an error. Answers every processor's state afterwards. */
export function startProcessors(ports: ProcessorPorts, camera?: string): Promise<ProcessorChange[]> {
  return transition(ports, camera, 'start', ['RUNNING']);
}

/** Stops the processor(s); already STOPPED (or FAILED, which runs nothing) is not an error. */
export function stopProcessors(ports: ProcessorPorts, camera?: string): Promise<ProcessorChange[]> {
  return transition(ports, camera, 'stop', ['STOPPED', 'FAILED']);
}

async function transition(
  ports: ProcessorPorts,
  camera: string | undefined,
  action: 'start' | 'stop',
  alreadyThere: readonly ProcessorState[],
): Promise<ProcessorChange[]> {
  const results: ProcessorChange[] = [];
  const conflicts: { camera: string; state: ProcessorState; message: string }[] = [];
  // One camera after another: StopStreamProcessor allows 1 call per second per account.
  for (const c of selectCameras(ports.cameras, camera)) {
    const before = await describe(ports.processor, c);
    if (alreadyThere.includes(before.state)) {
      results.push({ ...before, changed: false });
      continue;
    }
    try {
      await (action === 'start' ? ports.processor.start(c) : ports.processor.stop(c));
      results.push({ ...(await describe(ports.processor, c)), changed: true });
    } catch (error) {
      if (!(error instanceof ProcessorBusyError)) throw translate(error);
      // Refused mid-transition; it may have just reached the asked state, which is then no conflict.
      const now = await describe(ports.processor, c);
      if (alreadyThere.includes(now.state)) results.push({ ...now, changed: false });
      else {
        results.push({ ...now, changed: false });
        conflicts.push({ camera: c.camera, state: now.state, message: error.message });
      }
    }
  }
  if (conflicts.length > 0) {
    const list = conflicts.map((c) => `"${c.camera}" is ${c.state}`).join(', ');
    throw new ConflictError(`Cannot ${action} now: ${list}; wait for the transition to finish (GET /processor) and retry`, {
      conflicts: conflicts.map(({ camera: name, state }) => ({ camera: name, state })),
      processors: results,
    });
  }
  return results;
}

async function describe(processor: ProcessorPort, camera: Camera): Promise<ProcessorStatus> {
  try {
    return await processor.describe(camera);
  } catch (error) {
    throw translate(error);
  }
}

function translate(error: unknown): unknown {
  if (error instanceof ProcessorNotFoundError) return new NotFoundError(error.message, { camera: error.camera });
  return error;
}
