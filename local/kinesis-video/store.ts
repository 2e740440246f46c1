/**
 * Disk-backed state of the local Kinesis Video Streams service: streams (state.json) and, per stream,
 * self-contained MKV fragments (<dir>/<fragmentNumber>.mkv) listed in an append-only index.jsonl.
 * Retention: DataRetentionInHours per stream, plus a global byte budget evicting the oldest fragments.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ApiError, inUse, invalidArgument, notFound } from './errors';

export interface StreamRecord {
  StreamName: string;
  StreamARN: string;
  DeviceName?: string;
  MediaType?: string;
  KmsKeyId: string;
  Version: string;
  Status: 'ACTIVE' | 'CREATING' | 'UPDATING' | 'DELETING';
  /** Milliseconds since the epoch. */
  CreationTime: number;
  DataRetentionInHours: number;
  Tags?: Record<string, string>;
  /** Folder of its fragments, under <dataDir>/streams/. */
  dir: string;
}

export interface FragmentMeta {
  /** Decimal string (47 digits), increasing per stream. */
  number: string;
  producerMs: number;
  serverMs: number;
  durationMs: number;
  sizeBytes: number;
  /** Bytes of the EBML header + Segment + Info + Tracks prefix in the file (the Cluster follows). */
  headerBytes: number;
  /** The cluster's timecode in ms as written in the file (segment-relative). */
  clusterTimecodeMs: number;
  /** Number of video frames. */
  frames: number;
  /** Producer timestamps (ms) of the video frames, in stream order (kept in memory only for live ones). */
  frameTimes?: number[];
}

/** A fragment still arriving through PutMedia (not yet persisted). */
export interface LiveFragment extends FragmentMeta {
  live: true;
}

const NAME_RE = /^[a-zA-Z0-9_.-]{1,256}$/;
const FRAGMENT_BASE = 9n * 10n ** 46n; // 47-digit numbers, like AWS's

export interface StoreOptions {
  dataDir: string;
  region: string;
  /** Upper bound of all fragments on disk (oldest evicted first). Default 1 GiB. */
  maxBytes?: number;
  /** How long fragments of streams with DataRetentionInHours = 0 are kept for GetMedia. Default 120 s. */
  noRetentionKeepMs?: number;
}

interface StreamState {
  record: StreamRecord;
  fragments: FragmentMeta[];
  live: Set<LiveFragment>;
  lastNumber: bigint;
  deadIndexLines: number;
}

export class Store extends EventEmitter {
  readonly dataDir: string;
  readonly region: string;
  private readonly maxBytes: number;
  private readonly noRetentionKeepMs: number;
  private readonly streams = new Map<string, StreamState>(); // by name
  private totalBytes = 0;

  constructor(options: StoreOptions) {
    super();
    this.setMaxListeners(0);
    this.dataDir = path.resolve(options.dataDir);
    this.region = options.region;
    this.maxBytes = options.maxBytes ?? 1024 ** 3;
    this.noRetentionKeepMs = options.noRetentionKeepMs ?? 120_000;
    fs.mkdirSync(path.join(this.dataDir, 'streams'), { recursive: true });
    this.load();
  }

  // ---------- persistence ----------

  private get statePath(): string {
    return path.join(this.dataDir, 'state.json');
  }

  private load(): void {
    let records: StreamRecord[] = [];
    try {
      records = JSON.parse(fs.readFileSync(this.statePath, 'utf8')).streams ?? [];
    } catch {
      records = [];
    }
    for (const record of records) {
      const dir = this.streamDir(record);
      fs.mkdirSync(dir, { recursive: true });
      const fragments: FragmentMeta[] = [];
      let dead = 0;
      try {
        for (const line of fs.readFileSync(path.join(dir, 'index.jsonl'), 'utf8').split('\n')) {
          if (!line.trim()) continue;
          try {
            const meta = JSON.parse(line) as FragmentMeta;
            if (fs.existsSync(path.join(dir, `${meta.number}.mkv`))) fragments.push(meta);
            else dead++;
          } catch {
            dead++; // a torn last line after a crash
          }
        }
      } catch {
        /* no index yet */
      }
      fragments.sort((a, b) => cmpNumber(a.number, b.number));
      const last = fragments.length ? BigInt(fragments[fragments.length - 1].number) : 0n;
      for (const f of fragments) this.totalBytes += f.sizeBytes;
      this.streams.set(record.StreamName, { record, fragments, live: new Set(), lastNumber: last, deadIndexLines: dead });
      if (dead) this.compactIndex(record.StreamName);
    }
  }

  private saveState(): void {
    const tmp = `${this.statePath}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ streams: [...this.streams.values()].map((s) => s.record) }, null, 1));
    fs.renameSync(tmp, this.statePath);
  }

  streamDir(record: StreamRecord): string {
    return path.join(this.dataDir, 'streams', record.dir);
  }

  fragmentPath(record: StreamRecord, number: string): string {
    return path.join(this.streamDir(record), `${number}.mkv`);
  }

  private compactIndex(name: string): void {
    const s = this.streams.get(name);
    if (!s) return;
    const file = path.join(this.streamDir(s.record), 'index.jsonl');
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, s.fragments.map((f) => JSON.stringify(f) + '\n').join(''));
    fs.renameSync(tmp, file);
    s.deadIndexLines = 0;
  }

  // ---------- streams ----------

  createStream(input: {
    StreamName?: string;
    DeviceName?: string;
    MediaType?: string;
    KmsKeyId?: string;
    DataRetentionInHours?: number;
    Tags?: Record<string, string>;
  }): StreamRecord {
    const name = input.StreamName;
    if (!name || !NAME_RE.test(name)) throw invalidArgument('StreamName must match [a-zA-Z0-9_.-]{1,256}');
    const retention = input.DataRetentionInHours ?? 0;
    if (!Number.isInteger(retention) || retention < 0 || retention > 87600)
      throw invalidArgument('DataRetentionInHours must be an integer between 0 and 87600');
    if (this.streams.has(name)) throw inUse(`The stream ${name} already exists.`);
    const created = Date.now();
    const record: StreamRecord = {
      StreamName: name,
      StreamARN: `arn:aws:kinesisvideo:${this.region}:000000000000:stream/${name}/${created}`,
      DeviceName: input.DeviceName,
      MediaType: input.MediaType,
      KmsKeyId: input.KmsKeyId ?? `arn:aws:kms:${this.region}:000000000000:alias/aws/kinesisvideo`,
      Version: randomBytes(10).toString('hex'),
      Status: 'ACTIVE',
      CreationTime: created,
      DataRetentionInHours: retention,
      Tags: input.Tags,
      dir: `${name}-${created}`,
    };
    fs.mkdirSync(this.streamDir(record), { recursive: true });
    this.streams.set(name, { record, fragments: [], live: new Set(), lastNumber: 0n, deadIndexLines: 0 });
    this.saveState();
    return record;
  }

  /** Finds a stream by name or ARN (both given: they must agree). */
  getStream(ref: { StreamName?: string; StreamARN?: string }): StreamRecord {
    return this.state(ref).record;
  }

  private state(ref: { StreamName?: string; StreamARN?: string }): StreamState {
    if (!ref.StreamName && !ref.StreamARN) throw invalidArgument('Either StreamName or StreamARN must be provided');
    let s: StreamState | undefined;
    if (ref.StreamName) s = this.streams.get(ref.StreamName);
    else s = [...this.streams.values()].find((x) => x.record.StreamARN === ref.StreamARN);
    if (!s || (ref.StreamARN && s.record.StreamARN !== ref.StreamARN)) {
      throw notFound(`The requested stream ${ref.StreamName ?? ref.StreamARN} is not found or not active.`);
    }
    return s;
  }

  listStreams(): StreamRecord[] {
    return [...this.streams.values()].map((s) => s.record).sort((a, b) => a.StreamName.localeCompare(b.StreamName));
  }

  deleteStream(ref: { StreamARN?: string; CurrentVersion?: string }): void {
    if (!ref.StreamARN) throw invalidArgument('StreamARN is required');
    const s = this.state({ StreamARN: ref.StreamARN });
    if (ref.CurrentVersion && ref.CurrentVersion !== s.record.Version)
      throw new ApiError('VersionMismatchException', 'The stream version does not match CurrentVersion');
    this.streams.delete(s.record.StreamName);
    for (const f of s.fragments) this.totalBytes -= f.sizeBytes;
    this.saveState();
    this.emit('deleted', s.record);
    fs.rm(this.streamDir(s.record), { recursive: true, force: true }, () => undefined);
  }

  updateDataRetention(input: {
    StreamName?: string;
    StreamARN?: string;
    CurrentVersion?: string;
    Operation?: string;
    DataRetentionChangeInHours?: number;
  }): void {
    const s = this.state(input);
    if (input.CurrentVersion !== s.record.Version)
      throw new ApiError('VersionMismatchException', 'The stream version does not match CurrentVersion');
    const change = input.DataRetentionChangeInHours ?? 0;
    if (!Number.isInteger(change) || change < 1) throw invalidArgument('DataRetentionChangeInHours must be >= 1');
    if (input.Operation === 'INCREASE_DATA_RETENTION') s.record.DataRetentionInHours += change;
    else if (input.Operation === 'DECREASE_DATA_RETENTION') {
      if (change > s.record.DataRetentionInHours) throw invalidArgument('Retention cannot go below 0');
      s.record.DataRetentionInHours -= change;
    } else throw invalidArgument('Operation must be INCREASE_DATA_RETENTION or DECREASE_DATA_RETENTION');
    s.record.Version = randomBytes(10).toString('hex');
    this.saveState();
  }

  // ---------- fragments ----------

  /** Allocates the next fragment number of a stream (strictly increasing, 47 digits). */
  nextFragmentNumber(record: StreamRecord): string {
    const s = this.state({ StreamName: record.StreamName });
    const candidate = FRAGMENT_BASE + BigInt(Date.now()) * 10n ** 20n;
    s.lastNumber = candidate > s.lastNumber ? candidate : s.lastNumber + 1n;
    return s.lastNumber.toString();
  }

  fragments(record: StreamRecord): readonly FragmentMeta[] {
    return this.streams.get(record.StreamName)?.fragments ?? [];
  }

  liveFragments(record: StreamRecord): LiveFragment[] {
    return [...(this.streams.get(record.StreamName)?.live ?? [])];
  }

  addLive(record: StreamRecord, fragment: LiveFragment): void {
    this.streams.get(record.StreamName)?.live.add(fragment);
  }

  removeLive(record: StreamRecord, fragment: LiveFragment): void {
    this.streams.get(record.StreamName)?.live.delete(fragment);
  }

  /** Writes a complete fragment and indexes it; emits 'fragment' (record, meta). */
  async addFragment(record: StreamRecord, meta: FragmentMeta, bytes: Buffer): Promise<void> {
    const s = this.streams.get(record.StreamName);
    if (!s || s.record !== record) throw notFound(`The stream ${record.StreamName} was deleted`);
    const stored: FragmentMeta = { ...meta, sizeBytes: bytes.length };
    delete stored.frameTimes;
    await fsp.writeFile(this.fragmentPath(record, meta.number), bytes);
    if (this.streams.get(record.StreamName) !== s) return; // deleted meanwhile
    await fsp.appendFile(path.join(this.streamDir(record), 'index.jsonl'), JSON.stringify(stored) + '\n');
    // keep the list sorted by fragment number (sessions may finish out of order)
    let i = s.fragments.length;
    while (i > 0 && cmpNumber(s.fragments[i - 1].number, stored.number) > 0) i--;
    s.fragments.splice(i, 0, stored);
    this.totalBytes += stored.sizeBytes;
    this.emit('fragment', record, stored);
    this.enforceRetention();
  }

  async readFragment(record: StreamRecord, meta: FragmentMeta): Promise<Buffer> {
    try {
      return await fsp.readFile(this.fragmentPath(record, meta.number));
    } catch {
      throw notFound(`Fragment ${meta.number} is no longer available`);
    }
  }

  /** Drops fragments past their stream's retention and, if over budget, the oldest ones overall. */
  enforceRetention(now = Date.now()): void {
    for (const s of this.streams.values()) {
      const keepMs = s.record.DataRetentionInHours > 0 ? s.record.DataRetentionInHours * 3_600_000 : this.noRetentionKeepMs;
      let n = 0;
      while (n < s.fragments.length && s.fragments[n].serverMs < now - keepMs) n++;
      if (n) this.evict(s, n);
    }
    while (this.totalBytes > this.maxBytes) {
      let oldest: StreamState | undefined;
      for (const s of this.streams.values()) {
        if (s.fragments.length && (!oldest || s.fragments[0].serverMs < oldest.fragments[0].serverMs)) oldest = s;
      }
      if (!oldest) break;
      this.evict(oldest, 1);
    }
  }

  private evict(s: StreamState, count: number): void {
    const gone = s.fragments.splice(0, count);
    for (const f of gone) {
      this.totalBytes -= f.sizeBytes;
      fs.rmSync(this.fragmentPath(s.record, f.number), { force: true }); // before the index says it is gone
      this.emit('evicted', s.record, f);
    }
    s.deadIndexLines += count;
    if (s.deadIndexLines > 200 && s.deadIndexLines > s.fragments.length) this.compactIndex(s.record.StreamName);
  }

  get bytesOnDisk(): number {
    return this.totalBytes;
  }
}

export function cmpNumber(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}
