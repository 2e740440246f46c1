import {
  fragmentStart,
  sampleTimes,
  samplingIntervalMs,
  type VideoFragment,
} from '../domain/frame-analysis';
import {
  DEFAULT_TRACKER_SETTINGS,
  emptyTrackerState,
} from '../domain/face-tracker';
import type { Clock, ProgressPort, RecordSink, SampledFrame, SliceDependencies } from './processor-ports';
import { DEFAULT_SEARCH_REFRESH_SECONDS, DEFAULT_TUNING, validateSettings, type ProcessorSettings, type SliceTuning } from './processor-settings';
import { ProcessorFailure, permanentFailure } from './processor-errors';
import { Semaphore, deferred } from '../concurrency';
import { analyseFrame, detectFrame, gateFrame, reuseDetection, type AnalysedFrame, type Detection, type Tracking, type UsableFrame } from './analyse-frame';


/**
 * The self-managed face-search processor's work for one camera over a slice of wall-clock time: sample
 * frames from the Kinesis Video stream as they become available, find the faces of each frame, search each
 * face in the collection, and write one record per analysed frame, exactly as Rekognition's managed stream
 * processor does. Runs inside the worker Lambda (functions/process-video) and the local runner alike.
 */


export interface SliceInput {
  settings: ProcessorSettings;
  /** Next sample time on the source's clock (epoch ms). */
  cursorMs: number;
  /** Time of the last frame already analysed (never analysed twice). */
  lastFrameMs?: number;
  /** Wall-clock time (clock.now()) at which the slice must have returned. */
  deadlineMs: number;
  tuning?: Partial<SliceTuning>;
}

export interface SliceResult {
  cursorMs: number;
  lastFrameMs?: number;
  framesAnalysed: number;
  recordsWritten: number;
  facesFound: number;
  /** Faces searched with SearchFacesByImage, and faces that reused their track's last search instead. */
  facesSearched: number;
  searchesReused: number;
  /** Unknown faces looked up in the visitors collection (once per track), and the new visitors indexed there. */
  visitorLookups: number;
  visitorsIndexed: number;
  /** Video skipped because the processor fell more than maxLagMs behind. */
  skippedMs: number;
  /** 'deadline': time is up, chain on; 'stopped': the processor was stopped or another worker took over. */
  ended: 'deadline' | 'stopped';
}

const LOOKBACK_MS = 30_000;
const LOOKAHEAD_MS = 600_000;

export async function analyseVideoSlice(input: SliceInput, deps: SliceDependencies): Promise<SliceResult> {
  const settings = validateSettings(input.settings);
  const tuning: SliceTuning = { ...DEFAULT_TUNING, ...input.tuning };
  const { frames, clock, progress, logger } = deps;
  const interval = samplingIntervalMs(settings.samplingFps);
  const streamArn = await frames.streamArn();
  const reuseMs = (settings.searchRefreshSeconds ?? DEFAULT_SEARCH_REFRESH_SECONDS) * 1000;
  const tracking: Tracking = {
    settings: { ...DEFAULT_TRACKER_SETTINGS, reuseMs, maxGapMs: Math.max(DEFAULT_TRACKER_SETTINGS.maxGapMs, reuseMs) },
    state: emptyTrackerState(),
    gate: { chain: Promise.resolve() },
    visitorsSeen: new Map(),
  };
  const ctx: SliceContext = { streamArn, settings, tuning, tracking, deps };
  // What is written and checkpointed (the slice's result), and where the next window starts: ahead of it while
  // windows are in flight.
  const result: SliceResult = {
    cursorMs: input.cursorMs,
    lastFrameMs: input.lastFrameMs,
    framesAnalysed: 0,
    recordsWritten: 0,
    facesFound: 0,
    facesSearched: 0,
    searchesReused: 0,
    visitorLookups: 0,
    visitorsIndexed: 0,
    skippedMs: 0,
    ended: 'deadline',
  };
  let launch: Position = { cursorMs: input.cursorMs, lastFrameMs: input.lastFrameMs };
  // Windows in flight, oldest first: at most two, the older one finishing its searches and writes while the newer
  // one's frames are detected (a window starts once every frame of the previous one has decided its searches).
  const inFlight: Window[] = [];
  let failures = 0;
  let lastRenewMs = -Infinity;

  /** Takes the oldest window's outcome into the result; false once the processor was stopped. */
  const commitOldest = async (): Promise<boolean> => {
    const window = inFlight[0];
    const outcome = await window.done;
    inFlight.shift();
    if (outcome.renewedAtMs !== undefined) lastRenewMs = Math.max(lastRenewMs, outcome.renewedAtMs);
    if (outcome.stopped) return false;
    result.cursorMs = window.next.cursorMs;
    result.lastFrameMs = window.next.lastFrameMs;
    count(outcome.records);
    failures = 0;
    return true;
  };
  const count = (records: readonly AnalysedFrame[]) => {
    result.framesAnalysed += records.length;
    result.recordsWritten += records.length;
    result.facesFound += records.reduce((n, r) => n + r.faces, 0);
    result.facesSearched += records.reduce((n, r) => n + r.searched, 0);
    result.searchesReused += records.reduce((n, r) => n + r.reused, 0);
    result.visitorLookups += records.reduce((n, r) => n + r.visitorLookups, 0);
    result.visitorsIndexed += records.reduce((n, r) => n + r.visitorsIndexed, 0);
  };
  /**
   * After a failure: windows after the failed one end without writing; windows before it are committed; of the
   * failed one, the records already out count (and are not written again). False if the processor was stopped.
   */
  const settleAfterFailure = async (): Promise<boolean> => {
    await Promise.allSettled(inFlight.map((w) => w.done));
    while (inFlight.length && (await inFlight[0].done.then(() => true, () => false))) if (!(await commitOldest())) return false;
    const written = inFlight[0]?.written ?? [];
    count(written);
    if (written.length) result.lastFrameMs = Math.max(result.lastFrameMs ?? -Infinity, written[written.length - 1].frameMs);
    inFlight.length = 0;
    return true;
  };
  const stopped = async (): Promise<SliceResult> => {
    await Promise.allSettled(inFlight.map((w) => w.done));
    inFlight.length = 0;
    return { ...result, ended: 'stopped' };
  };

  const remaining = () => input.deadlineMs - clock.now();
  while (remaining() > 0) {
    try {
      // Windows already done are committed without waiting.
      while (inFlight.length && inFlight[0].settled) if (!(await commitOldest())) return await stopped();

      const now = clock.now();
      const fragments = await frames.listFragments(launch.cursorMs - LOOKBACK_MS, Math.max(now, launch.cursorMs) + LOOKAHEAD_MS);
      const availableEnd = fragments.reduce((end, f) => Math.max(end, fragmentStart(f, frames.domain) + f.durationMs), -Infinity);

      if (!(availableEnd > launch.cursorMs)) {
        // Nothing new yet: still check now and then that the processor was not stopped meanwhile.
        if (!inFlight.length && clock.now() - lastRenewMs >= 1_000) {
          lastRenewMs = clock.now();
          if (!(await progress.renew())) return { ...result, ended: 'stopped' };
        }
        const wait = Math.max(0, Math.min(tuning.idlePollMs, remaining()));
        // A window finishing meanwhile is committed as soon as it is done, not after the whole wait.
        await (inFlight.length ? Promise.race([clock.sleep(wait), inFlight[0].done.then(() => undefined, () => undefined)]) : clock.sleep(wait));
        continue;
      }

      if (availableEnd - launch.cursorMs > tuning.maxLagMs) {
        const steps = Math.floor((availableEnd - tuning.maxLagMs - launch.cursorMs) / interval);
        result.skippedMs += steps * interval;
        logger?.warn('Processor fell behind live video: skipping ahead', { camera: settings.camera, skippedMs: steps * interval });
        launch = { ...launch, cursorMs: launch.cursorMs + steps * interval };
      }

      const windowEnd = Math.min(availableEnd, launch.cursorMs + tuning.maxWindowMs);
      const times = sampleTimes(launch.cursorMs, windowEnd, interval);
      const sampled = await frames.getFrames(times[0], times[times.length - 1], interval);
      const fresh = freshFrames(sampled, launch.lastFrameMs);
      const next: Position = {
        cursorMs: times[times.length - 1] + interval,
        lastFrameMs: fresh.length ? Math.max(launch.lastFrameMs ?? -Infinity, fresh[fresh.length - 1].timestampMs) : launch.lastFrameMs,
      };
      const window = startWindow(ctx, fresh, fragments, next, inFlight[inFlight.length - 1]);
      inFlight.push(window);
      launch = next;

      // The next window starts once this one's frames have all decided their searches (or it ended early);
      // the window before it must be done by then.
      await Promise.race([window.decided, window.done]);
      while (inFlight.length > 1 || (inFlight.length && inFlight[0].settled)) if (!(await commitOldest())) return await stopped();
    } catch (error) {
      // The analysis starts again after the last record that is out, tracking afresh.
      if (!(await settleAfterFailure())) return { ...result, ended: 'stopped' };
      launch = { cursorMs: result.cursorMs, lastFrameMs: result.lastFrameMs };
      tracking.state = emptyTrackerState();
      const permanent = permanentFailure(error);
      if (permanent) throw permanent;
      failures += 1;
      if (failures >= tuning.maxConsecutiveFailures) throw new ProcessorFailure(`${failures} attempts in a row failed: ${(error as Error).message}`, error);
      logger?.warn('Window failed: retrying it', { camera: settings.camera, attempt: failures, error: (error as Error).message });
      await clock.sleep(Math.max(0, Math.min(200 * 2 ** failures, remaining())));
    }
  }
  // Time is up: the windows in flight finish (their frames are already being analysed) and are committed.
  try {
    while (inFlight.length) if (!(await commitOldest())) return await stopped();
  } catch (error) {
    logger?.warn('Last window failed: the next run analyses it again', { camera: settings.camera, error: (error as Error).message });
    if (!(await settleAfterFailure())) return { ...result, ended: 'stopped' };
  }
  return result;
}

/** Where the next window starts: the next sample time, and the last frame already analysed (never twice). */
interface Position {
  cursorMs: number;
  lastFrameMs?: number;
}

/** What every window of a slice works with. */
interface SliceContext {
  streamArn: string;
  settings: ProcessorSettings;
  tuning: SliceTuning;
  tracking: Tracking;
  deps: SliceDependencies;
}

/** A window of frames being analysed, written and checkpointed, in order after the window before it. */
interface Window {
  /** Every frame of the window has decided its searches: the next window's frames may take their turns. */
  decided: Promise<void>;
  /** Records written and checkpoint taken (or the processor found stopped); rejects when the window failed. */
  done: Promise<{ records: AnalysedFrame[]; stopped: boolean; renewedAtMs?: number }>;
  settled: boolean;
  /** Where the window after it starts. */
  next: Position;
  /** Frames whose records are already out, even if the window fails later. */
  written: readonly AnalysedFrame[];
}

function startWindow(ctx: SliceContext, fresh: readonly UsableFrame[], fragments: readonly VideoFragment[], next: Position, previous: Window | undefined): Window {
  const { deps } = ctx;
  // Records and checkpoints go out in frame order: after the previous window's, and never if it failed.
  const previousDone = previous ? previous.done.then(() => undefined) : Promise.resolve();
  previousDone.catch(() => undefined);
  const writer = new OrderedWriter(deps.progress, deps.sink, deps.clock, previousDone);
  let decide!: () => void;
  const decided = new Promise<void>((resolve) => (decide = resolve));
  const analysed = analyseFrames(ctx, fresh, fragments, previous?.decided, decide, (index, frame) => writer.done(index, frame));
  const window: Window = {
    decided,
    next,
    written: writer.written,
    settled: false,
    done: (async () => {
      let records: AnalysedFrame[];
      try {
        records = (await analysed).filter((r): r is AnalysedFrame => r !== undefined);
      } finally {
        decide(); // a failed window must not hold the next one's turns
      }
      await writer.finish();
      if (writer.stopped) return { records, stopped: true, renewedAtMs: writer.renewedAtMs };
      await previousDone;
      const checkpointed = await deps.progress.checkpoint({ cursorMs: next.cursorMs, lastFrameMs: next.lastFrameMs, framesAnalysed: records.length });
      return { records, stopped: !checkpointed, renewedAtMs: deps.clock.now() };
    })(),
  };
  window.done.then(
    () => (window.settled = true),
    () => (window.settled = true),
  );
  return window;
}

/** Frames with an image, after the last analysed one, each once (samples can land on the same frame). */
function freshFrames(sampled: readonly SampledFrame[], lastFrameMs: number | undefined): (SampledFrame & { image: Uint8Array })[] {
  const seen = new Set<number>();
  const out: (SampledFrame & { image: Uint8Array })[] = [];
  for (const frame of [...sampled].sort((a, b) => a.timestampMs - b.timestampMs)) {
    if (!frame.image || frame.image.length === 0) continue;
    if (lastFrameMs !== undefined && frame.timestampMs <= lastFrameMs) continue;
    if (seen.has(frame.timestampMs)) continue;
    seen.add(frame.timestampMs);
    out.push(frame as SampledFrame & { image: Uint8Array });
  }
  return out;
}

/**
 * The window's frames, `tuning.concurrency` at once, records in frame order. DetectFaces runs concurrently;
 * with search reuse on, each frame decides which faces to search after the previous frame has decided (the
 * tracks it left; the first frame after the previous window's last), but does not wait for that frame's
 * searches to answer. `decided` is called once every frame has decided.
 */
async function analyseFrames(
  { streamArn, settings, tuning, tracking, deps }: SliceContext,
  fresh: readonly UsableFrame[],
  fragments: readonly VideoFragment[],
  previousDecided: Promise<void> | undefined,
  decided: () => void,
  analysed: (index: number, frame: AnalysedFrame | undefined) => void,
): Promise<(AnalysedFrame | undefined)[]> {
  const ordered = tracking.settings.reuseMs > 0;
  const turns = fresh.map(() => deferred());
  const before = previousDecided ?? Promise.resolve();
  if (fresh.length === 0) before.then(decided, decided);
  else turns[fresh.length - 1].promise.then(decided);
  // `concurrency` frames at once in detection and decision; a frame that has decided waits for its searches
  // (and for the searches it reuses) outside that limit, so a slow search never keeps later frames from starting.
  const slots = new Semaphore(tuning.concurrency);
  // The motion gate decides frame by frame, in time order (each against the last frame the detector ran on).
  const gates = fresh.map((frame) => {
    const gate = tracking.gate.chain.then(() => gateFrame(frame, tuning, tracking, deps));
    tracking.gate.chain = gate.then(
      () => undefined,
      () => undefined,
    );
    return gate;
  });
  return Promise.all(
    fresh.map(async (frame, index) => {
      await slots.acquire();
      let held = true;
      const release = () => {
        if (held) slots.release();
        held = false;
      };
      const gate = await gates[index];
      try {
        let detection: Detection | undefined;
        try {
          detection = gate.reuse ? await reuseDetection(frame, await gate.reuse, fragments, streamArn, deps) : await detectFrame(frame, fragments, streamArn, settings, deps, ordered);
        } finally {
          gate.key?.(detection);
        }
        if (ordered) await (index > 0 ? turns[index - 1].promise : before);
        const result = detection
          ? await analyseFrame(frame, { ...detection, frameWidth: gate.width }, settings, tuning, tracking, deps, () => {
              turns[index].resolve();
              release();
            })
          : undefined;
        analysed(index, result);
        return result;
      } finally {
        turns[index].resolve();
        release();
      }
    }),
  );
}

/**
 * Writes a window's records in frame order as their frames complete. The processor's lease is renewed once,
 * before the window's first write: after a stop nothing more is written (frames still being analysed then
 * are dropped). A failed write stops the writing; finish() rethrows it and the window is retried.
 */
class OrderedWriter {
  private readonly ready = new Map<number, AnalysedFrame | undefined>();
  private next = 0;
  private chain: Promise<void>;
  private renewal?: Promise<boolean>;
  private error?: unknown;
  stopped = false;
  renewedAtMs?: number;
  /** Frames whose records are out, in order (also when a later write failed). */
  readonly written: AnalysedFrame[] = [];

  /** `after`: the previous window's records are written (the chain starts from it; rejected: nothing is written). */
  constructor(
    private readonly progress: ProgressPort,
    private readonly sink: RecordSink,
    private readonly clock: Clock,
    after: Promise<void> = Promise.resolve(),
  ) {
    this.chain = after;
    this.chain.catch(() => undefined); // surfaced by finish(), not as an unhandled rejection meanwhile
  }

  done(index: number, frame: AnalysedFrame | undefined): void {
    this.ready.set(index, frame);
    const batch: AnalysedFrame[] = [];
    while (this.ready.has(this.next)) {
      const f = this.ready.get(this.next);
      this.ready.delete(this.next);
      this.next += 1;
      if (f) batch.push(f);
    }
    if (batch.length) {
      this.chain = this.chain.then(() => this.write(batch));
      this.chain.catch(() => undefined); // surfaced by finish()
    }
  }

  private async write(batch: AnalysedFrame[]): Promise<void> {
    if (this.error !== undefined || this.stopped) return;
    try {
      if (!this.renewal) {
        this.renewal = this.progress.renew();
        const renewed = await this.renewal;
        this.renewedAtMs = this.clock.now();
        if (!renewed) this.stopped = true;
      }
      if (this.stopped || !(await this.renewal)) return;
      await this.sink.put(batch.map(({ outgoing }) => outgoing));
      this.written.push(...batch);
    } catch (error) {
      this.error = error;
    }
  }

  async finish(): Promise<void> {
    await this.chain;
    if (this.error !== undefined) throw this.error;
  }
}

