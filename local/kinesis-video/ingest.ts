/**
 * One PutMedia session: parses the continuous MKV body, cuts a fragment at each Cluster, stores each
 * fragment self-contained (EBML header + Segment + Info + Tracks + Cluster), sends AWS-style
 * acknowledgements, and (when a reader wants images) feeds a live ffmpeg decoder so that frames can be
 * served before their fragment is complete.
 */
import { ID, MkvStreamParser, encodeId, encodeSize, unknownSizeHeader, type ClusterChild, type TrackInfo } from './ebml';
import { FrameCache, LiveDecoder, type DecodedFrame } from './frames';
import type { FragmentMeta, LiveFragment, Store, StreamRecord } from './store';

export interface Ack {
  EventType: 'BUFFERING' | 'RECEIVED' | 'PERSISTED' | 'ERROR' | 'IDLE';
  FragmentTimecode?: number;
  FragmentNumber?: string;
  ErrorId?: number;
  ErrorCode?: string;
}

export interface SessionOptions {
  timecodeType: 'ABSOLUTE' | 'RELATIVE';
  /** Producer start timestamp in ms (RELATIVE timecodes are added to it). */
  producerStartMs: number;
}

interface Current {
  live: LiveFragment;
  children: Buffer[];
  bytes: number;
  timecodeRaw?: number;
  acked: boolean;
}

interface Covered {
  meta: FragmentMeta;
  frameTimes: number[];
  done: boolean;
}

export const fragmentKey = (record: StreamRecord, number: string): string => `${record.dir}/${number}`;

const SEGMENT_UNKNOWN = Buffer.concat([encodeId(ID.Segment), encodeSize(-1)]);

export class PutMediaSession {
  private readonly parser: MkvStreamParser;
  private ebmlHeader?: Buffer;
  private info?: Buffer;
  private tracksRaw?: Buffer;
  private timecodeScale = 1_000_000;
  private videoTrack?: TrackInfo;
  private current?: Current;
  private decoder?: LiveDecoder;
  /** Fragments the running decoder was fed from their start, newest last. */
  private covered: Covered[] = [];
  private persisting: Promise<void> = Promise.resolve();
  private failed = false;
  lastActivity = Date.now();

  constructor(
    private readonly store: Store,
    readonly record: StreamRecord,
    private readonly options: SessionOptions,
    private readonly cache: FrameCache,
    private readonly ack: (a: Ack) => void,
  ) {
    this.parser = new MkvStreamParser({
      header: (raw) => {
        this.stopDecoder();
        this.ebmlHeader = raw;
        this.info = undefined;
        this.tracksRaw = undefined;
      },
      info: (raw, scale) => {
        this.info = raw;
        this.timecodeScale = scale;
      },
      tracks: (raw, tracks) => {
        this.stopDecoder();
        this.tracksRaw = raw;
        this.videoTrack = tracks.find((t) => t.type === 1) ?? tracks[0];
      },
      clusterStart: () => this.clusterStart(),
      clusterChild: (child) => this.clusterChild(child),
      clusterEnd: () => this.clusterEnd(),
    });
  }

  /** EBML header + Segment (unknown size) + Info + Tracks: what each stored fragment starts with. */
  private prefix(): Buffer {
    return Buffer.concat([this.ebmlHeader ?? Buffer.alloc(0), SEGMENT_UNKNOWN, this.info ?? Buffer.alloc(0), this.tracksRaw ?? Buffer.alloc(0)]);
  }

  private toMs(raw: number): number {
    return (raw * this.timecodeScale) / 1e6;
  }

  private get basisMs(): number {
    return this.options.timecodeType === 'ABSOLUTE' ? 0 : this.options.producerStartMs;
  }

  push(chunk: Buffer): void {
    if (this.failed) return;
    this.lastActivity = Date.now();
    try {
      this.parser.push(chunk);
    } catch (e) {
      this.fail(4000, 'INVALID_MKV_DATA', e);
    }
  }

  /** End of the request body: completes the last fragment; resolves when everything is persisted. */
  async end(): Promise<void> {
    if (!this.failed) {
      try {
        this.parser.end();
      } catch (e) {
        this.fail(4000, 'INVALID_MKV_DATA', e);
      }
    }
    await this.persisting;
    this.decoder?.end();
  }

  /** The connection broke: drop the partial fragment. */
  abort(): void {
    this.failed = true;
    if (this.current) this.store.removeLive(this.record, this.current.live);
    this.current = undefined;
    this.stopDecoder();
  }

  private fail(id: number, code: string, e: unknown): void {
    this.failed = true;
    this.ack({ EventType: 'ERROR', ErrorId: id, ErrorCode: code, FragmentNumber: this.current?.live.number });
    if (process.env.KVS_DEBUG) console.error('[kinesis-video] PutMedia error', e);
    if (this.current) this.store.removeLive(this.record, this.current.live);
    this.current = undefined;
    this.stopDecoder();
  }

  private clusterStart(): void {
    const number = this.store.nextFragmentNumber(this.record);
    const now = Date.now();
    const live: LiveFragment = {
      live: true,
      number,
      producerMs: this.basisMs,
      serverMs: now,
      durationMs: 0,
      sizeBytes: 0,
      headerBytes: 0,
      clusterTimecodeMs: 0,
      frames: 0,
      frameTimes: [],
    };
    this.current = { live, children: [], bytes: 0, acked: false };
    if (this.decoder) {
      this.decoder.write(unknownSizeHeader(ID.Cluster));
      this.cover(live);
    }
  }

  private clusterChild(child: ClusterChild): void {
    const cur = this.current;
    if (!cur) return;
    cur.children.push(child.raw);
    cur.bytes += child.raw.length;
    cur.live.sizeBytes = cur.bytes;
    if (child.kind === 'timecode') {
      cur.timecodeRaw = child.timecode;
      cur.live.clusterTimecodeMs = this.toMs(child.timecode);
      cur.live.producerMs = this.basisMs + cur.live.clusterTimecodeMs;
      if (!cur.acked) {
        cur.acked = true;
        this.store.addLive(this.record, cur.live);
        this.ack({ EventType: 'BUFFERING', FragmentTimecode: child.timecode, FragmentNumber: cur.live.number });
      }
    } else if (child.kind === 'block' && cur.timecodeRaw !== undefined && (!this.videoTrack || child.block.track === this.videoTrack.number)) {
      const ms = this.basisMs + this.toMs(cur.timecodeRaw + child.block.relativeTimecode);
      const times = cur.live.frameTimes as number[];
      times.push(ms);
      cur.live.frames = times.length;
      cur.live.durationMs = Math.max(cur.live.durationMs, ms - cur.live.producerMs + this.frameInterval(times));
    }
    this.decoder?.write(child.raw);
  }

  private frameInterval(times: number[]): number {
    if (this.videoTrack?.defaultDurationNs) return this.videoTrack.defaultDurationNs / 1e6;
    if (times.length < 2) return 0;
    const deltas: number[] = [];
    for (let i = 1; i < times.length; i++) deltas.push(Math.abs(times[i] - times[i - 1]));
    deltas.sort((a, b) => a - b);
    return deltas[deltas.length >> 1];
  }

  private clusterEnd(): void {
    const cur = this.current;
    this.current = undefined;
    if (!cur || cur.timecodeRaw === undefined) return;
    const prefix = this.prefix();
    const cluster = Buffer.concat([encodeId(ID.Cluster), encodeSize(cur.bytes), ...cur.children]);
    const bytes = Buffer.concat([prefix, cluster]);
    const meta: FragmentMeta = {
      number: cur.live.number,
      producerMs: cur.live.producerMs,
      serverMs: cur.live.serverMs,
      durationMs: Math.round(cur.live.durationMs),
      sizeBytes: bytes.length,
      headerBytes: prefix.length,
      clusterTimecodeMs: cur.live.clusterTimecodeMs,
      frames: cur.live.frames,
    };
    const timecode = cur.timecodeRaw;
    this.ack({ EventType: 'RECEIVED', FragmentTimecode: timecode, FragmentNumber: meta.number });
    const coveredEntry = this.covered.find((c) => c.meta.number === meta.number);
    if (coveredEntry) {
      coveredEntry.done = true;
      coveredEntry.meta = { ...meta };
      this.checkComplete(coveredEntry);
    }
    this.persisting = this.persisting.then(async () => {
      try {
        await this.store.addFragment(this.record, meta, bytes);
        this.ack({ EventType: 'PERSISTED', FragmentTimecode: timecode, FragmentNumber: meta.number });
      } catch (e) {
        this.ack({ EventType: 'ERROR', ErrorId: 5000, ErrorCode: 'INTERNAL_ERROR', FragmentTimecode: timecode, FragmentNumber: meta.number });
        if (process.env.KVS_DEBUG) console.error('[kinesis-video] persist failed', e);
      } finally {
        this.store.removeLive(this.record, cur.live);
      }
    });
  }

  // ---------- live decoding ----------

  get decoding(): boolean {
    return !!this.decoder && !this.decoder.closed;
  }

  /** The live fragment currently arriving, if any. */
  get liveFragment(): LiveFragment | undefined {
    return this.current?.acked ? this.current.live : undefined;
  }

  /** Frame times if the running decoder covers this fragment from its start. */
  coverage(number: string): { frameTimes: number[]; done: boolean } | undefined {
    if (!this.decoding) return undefined;
    const c = this.covered.find((x) => x.meta.number === number);
    return c ? { frameTimes: c.frameTimes, done: c.done } : undefined;
  }

  /** Starts the live decoder (from the start of the cluster being received). */
  startDecoder(): boolean {
    if (this.decoding) return true;
    if (this.failed || !this.tracksRaw) return false;
    const decoder = new LiveDecoder();
    this.decoder = decoder;
    this.covered = [];
    decoder.on('frame', (f: DecodedFrame) => this.onFrame(f));
    decoder.on('close', () => {
      if (this.decoder === decoder) this.decoder = undefined;
      for (const c of this.covered) if (!c.done || !this.isComplete(c)) this.cache.abandon(fragmentKey(this.record, c.meta.number));
      this.covered = [];
    });
    decoder.write(this.prefix());
    const cur = this.current;
    if (cur) {
      decoder.write(unknownSizeHeader(ID.Cluster));
      for (const c of cur.children) decoder.write(c);
      this.cover(cur.live);
    }
    return true;
  }

  stopDecoder(): void {
    const d = this.decoder;
    if (!d) return;
    d.end();
    setTimeout(() => d.kill(), 5000).unref();
  }

  private cover(live: LiveFragment): void {
    this.covered.push({ meta: live, frameTimes: live.frameTimes as number[], done: false });
    this.cache.open(fragmentKey(this.record, live.number));
    while (this.covered.length > 30) this.covered.shift();
  }

  private onFrame(f: DecodedFrame): void {
    const ms = this.basisMs + f.ptsMs;
    // the newest covered fragment starting at or before this frame
    let target: Covered | undefined;
    for (let i = this.covered.length - 1; i >= 0; i--) {
      if (this.covered[i].meta.producerMs <= ms + 0.5) {
        target = this.covered[i];
        break;
      }
    }
    if (!target) return;
    const key = fragmentKey(this.record, target.meta.number);
    this.cache.add(key, { ms, jpeg: f.jpeg });
    this.checkComplete(target);
  }

  private isComplete(c: Covered): boolean {
    const entry = this.cache.get(fragmentKey(this.record, c.meta.number));
    return !!entry && entry.frames.length >= c.meta.frames;
  }

  private checkComplete(c: Covered): void {
    if (c.done && this.isComplete(c)) this.cache.setComplete(fragmentKey(this.record, c.meta.number));
  }
}
