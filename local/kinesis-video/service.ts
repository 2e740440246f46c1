/**
 * Operations of the local Kinesis Video Streams service (control plane, PutMedia sessions, GetMedia,
 * archived media: ListFragments, GetImages, GetMediaForFragmentList). HTTP plumbing is in server.ts.
 */
import { createHash } from 'node:crypto';
import { ApiError, invalidArgument } from './errors';
import { ID, tagsElement, readId, readSize } from './ebml';
import { FrameCache, decodeFile, type CachedFragment, type CachedFrame } from './frames';
import { PutMediaSession, fragmentKey, type Ack, type SessionOptions } from './ingest';
import { Store, cmpNumber, type FragmentMeta, type StreamRecord } from './store';
import { Semaphore } from '../../shared/concurrency';
import { decodePageToken, encodePageToken } from '../../shared/domain/page-token';

export interface ServiceOptions {
  dataDir: string;
  region?: string;
  /** Byte budget of fragments on disk (oldest evicted first). Default 1 GiB. */
  maxBytes?: number;
  /** Decoded-frame cache size. Default 256 MiB. */
  frameCacheBytes?: number;
  /**
   * Live decoding of PutMedia sessions (frames served before their fragment completes):
   * 'on-demand' (default) while GetImages/ListFragments were called on the stream in the last hotMs,
   * 'always', or 'never'.
   */
  liveDecode?: 'on-demand' | 'always' | 'never';
  hotMs?: number;
  /** GetMedia closes after this long without a new fragment. Default 5000 ms. */
  getMediaIdleMs?: number;
  /** How long GetImages waits for the live decoder to produce an ingested frame. Default 2000 ms. */
  liveWaitMs?: number;
}

type Json = Record<string, unknown>;

const API_NAMES = new Set([
  'PUT_MEDIA', 'GET_MEDIA', 'LIST_FRAGMENTS', 'GET_MEDIA_FOR_FRAGMENT_LIST', 'GET_HLS_STREAMING_SESSION_URL',
  'GET_DASH_STREAMING_SESSION_URL', 'GET_CLIP', 'GET_IMAGES',
]);

/** Request timestamps arrive as epoch seconds (SDK) or ISO strings. Returns ms. */
export function parseTimestamp(v: unknown, field: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v * 1000;
  if (typeof v === 'string' && v.trim()) {
    const n = Number(v);
    if (Number.isFinite(n)) return n * 1000;
    const d = Date.parse(v);
    if (Number.isFinite(d)) return d;
  }
  throw invalidArgument(`${field} must be a timestamp`);
}

const seconds = (ms: number): number => Math.round(ms) / 1000;

function intParam(v: unknown, field: string, min: number, max: number, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw invalidArgument(`${field} must be an integer between ${min} and ${max}`);
  return v;
}

/** NextTokens: the product's page-token codec, scoped to the listing (and for images, to the request's parameters). */
function encodeToken(scope: string, o: Json): string {
  return encodePageToken(scope, o);
}

function decodeToken(t: unknown, scope: string): Json {
  const decoded = decodePageToken(String(t), scope);
  if ('problem' in decoded) throw invalidArgument(decoded.problem === 'other-scope' ? 'NextToken does not match this request' : 'NextToken is invalid');
  if (decoded.position && typeof decoded.position === 'object') return decoded.position as Json;
  throw invalidArgument('NextToken is invalid');
}

function streamRef(body: Json): { StreamName?: string; StreamARN?: string } {
  return {
    StreamName: typeof body.StreamName === 'string' ? body.StreamName : undefined,
    StreamARN: typeof body.StreamARN === 'string' ? body.StreamARN : undefined,
  };
}

function streamInfo(r: StreamRecord): Json {
  return {
    DeviceName: r.DeviceName,
    StreamName: r.StreamName,
    StreamARN: r.StreamARN,
    MediaType: r.MediaType,
    KmsKeyId: r.KmsKeyId,
    Version: r.Version,
    Status: r.Status,
    CreationTime: seconds(r.CreationTime),
    DataRetentionInHours: r.DataRetentionInHours,
  };
}

interface Located {
  meta: FragmentMeta;
  live: boolean;
  /** Producer time to show (ms). */
  producerMs: number;
}

export class KinesisVideoService {
  readonly store: Store;
  readonly cache: FrameCache;
  private readonly sessions = new Map<string, Set<PutMediaSession>>();
  private readonly hot = new Map<string, number>();
  private readonly decoding = new Map<string, Promise<CachedFragment>>();
  /** Limits concurrent ffmpeg cold decodes (2 cores). */
  private readonly coldDecodes = new Semaphore(2);
  private readonly timer: NodeJS.Timeout;
  readonly liveDecode: 'on-demand' | 'always' | 'never';
  private readonly hotMs: number;
  readonly getMediaIdleMs: number;
  private readonly liveWaitMs: number;

  constructor(options: ServiceOptions) {
    this.store = new Store({ dataDir: options.dataDir, region: options.region ?? 'us-east-1', maxBytes: options.maxBytes });
    this.cache = new FrameCache(options.frameCacheBytes);
    this.liveDecode = options.liveDecode ?? 'on-demand';
    this.hotMs = options.hotMs ?? 60_000;
    this.getMediaIdleMs = options.getMediaIdleMs ?? 5000;
    this.liveWaitMs = options.liveWaitMs ?? 2000;
    this.store.on('evicted', (record: StreamRecord, f: FragmentMeta) => this.cache.delete(fragmentKey(record, f.number)));
    this.store.on('deleted', (record: StreamRecord) => {
      for (const s of this.sessions.get(record.StreamName) ?? []) s.abort();
      this.sessions.delete(record.StreamName);
    });
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  close(): void {
    clearInterval(this.timer);
    for (const set of this.sessions.values()) for (const s of set) s.abort();
    this.sessions.clear();
  }

  private tick(): void {
    const now = Date.now();
    for (const [name, set] of this.sessions) {
      const hot = this.liveDecode === 'always' || (this.liveDecode === 'on-demand' && now - (this.hot.get(name) ?? 0) < this.hotMs);
      for (const s of set) {
        if (hot && !s.decoding) s.startDecoder();
        else if (!hot && s.decoding) s.stopDecoder();
      }
    }
    if (now % 60_000 < 1000) this.store.enforceRetention(now);
  }

  /** A reader wants images of this stream: keep its live sessions decoded. */
  private touch(record: StreamRecord): void {
    this.hot.set(record.StreamName, Date.now());
    if (this.liveDecode === 'never') return;
    for (const s of this.sessions.get(record.StreamName) ?? []) if (!s.decoding) s.startDecoder();
  }

  // ---------- control plane ----------

  createStream(body: Json): Json {
    const r = this.store.createStream({
      StreamName: body.StreamName as string | undefined,
      DeviceName: body.DeviceName as string | undefined,
      MediaType: body.MediaType as string | undefined,
      KmsKeyId: body.KmsKeyId as string | undefined,
      DataRetentionInHours: body.DataRetentionInHours as number | undefined,
      Tags: body.Tags as Record<string, string> | undefined,
    });
    return { StreamARN: r.StreamARN };
  }

  describeStream(body: Json): Json {
    return { StreamInfo: streamInfo(this.store.getStream(streamRef(body))) };
  }

  listStreams(body: Json): Json {
    const max = intParam(body.MaxResults, 'MaxResults', 1, 10000, 10000);
    const cond = body.StreamNameCondition as { ComparisonOperator?: string; ComparisonValue?: string } | undefined;
    if (cond && cond.ComparisonOperator && cond.ComparisonOperator !== 'BEGINS_WITH')
      throw invalidArgument('ComparisonOperator must be BEGINS_WITH');
    let list = this.store.listStreams();
    if (cond?.ComparisonValue) list = list.filter((r) => r.StreamName.startsWith(cond.ComparisonValue as string));
    if (body.NextToken) {
      const after = decodeToken(body.NextToken, 'streams').after;
      list = list.filter((r) => r.StreamName.localeCompare(String(after)) > 0);
    }
    const page = list.slice(0, max);
    const out: Json = { StreamInfoList: page.map(streamInfo) };
    if (list.length > max) out.NextToken = encodeToken('streams', { after: page[page.length - 1].StreamName });
    return out;
  }

  deleteStream(body: Json): Json {
    this.store.deleteStream({ StreamARN: body.StreamARN as string | undefined, CurrentVersion: body.CurrentVersion as string | undefined });
    return {};
  }

  updateDataRetention(body: Json): Json {
    this.store.updateDataRetention({ ...streamRef(body), ...(body as object) } as Parameters<Store['updateDataRetention']>[0]);
    return {};
  }

  getDataEndpoint(body: Json, endpoint: string): Json {
    if (typeof body.APIName !== 'string' || !API_NAMES.has(body.APIName))
      throw invalidArgument(`APIName must be one of ${[...API_NAMES].join(', ')}`);
    this.store.getStream(streamRef(body));
    return { DataEndpoint: endpoint };
  }

  // ---------- PutMedia ----------

  openSession(record: StreamRecord, options: SessionOptions, ack: (a: Ack) => void): PutMediaSession {
    const session = new PutMediaSession(this.store, record, options, this.cache, ack);
    let set = this.sessions.get(record.StreamName);
    if (!set) this.sessions.set(record.StreamName, (set = new Set()));
    set.add(session);
    return session;
  }

  closeSession(session: PutMediaSession): void {
    const set = this.sessions.get(session.record.StreamName);
    set?.delete(session);
    if (set && !set.size) this.sessions.delete(session.record.StreamName);
  }

  /** Starts live decoding right away if the stream is hot or the policy says so. */
  maybeDecode(session: PutMediaSession): void {
    if (this.liveDecode === 'never') return;
    const hot = this.liveDecode === 'always' || Date.now() - (this.hot.get(session.record.StreamName) ?? 0) < this.hotMs;
    if (hot) session.startDecoder();
  }

  // ---------- fragments ----------

  /** Persisted fragments plus the ones still arriving (live), by fragment number. */
  allFragments(record: StreamRecord): { meta: FragmentMeta; live: boolean }[] {
    const out: { meta: FragmentMeta; live: boolean }[] = this.store.fragments(record).map((meta) => ({ meta, live: false }));
    const persisted = new Set(out.map((f) => f.meta.number).slice(-50));
    for (const l of this.store.liveFragments(record)) if (!persisted.has(l.number)) out.push({ meta: l, live: true });
    return out.sort((a, b) => cmpNumber(a.meta.number, b.meta.number));
  }

  private archived(body: Json): StreamRecord {
    const record = this.store.getStream(streamRef(body));
    if (record.DataRetentionInHours === 0)
      throw new ApiError('NoDataRetentionException', `The stream ${record.StreamName} has no data retention (DataRetentionInHours = 0)`);
    return record;
  }

  listFragments(body: Json): Json {
    const record = this.archived(body);
    this.touch(record);
    const max = intParam(body.MaxResults, 'MaxResults', 1, 1000, 100);
    const sel = body.FragmentSelector as { FragmentSelectorType?: string; TimestampRange?: { StartTimestamp?: unknown; EndTimestamp?: unknown } } | undefined;
    let list = this.allFragments(record);
    if (sel) {
      if (sel.FragmentSelectorType !== 'PRODUCER_TIMESTAMP' && sel.FragmentSelectorType !== 'SERVER_TIMESTAMP')
        throw invalidArgument('FragmentSelectorType must be PRODUCER_TIMESTAMP or SERVER_TIMESTAMP');
      const start = parseTimestamp(sel.TimestampRange?.StartTimestamp, 'StartTimestamp');
      const end = parseTimestamp(sel.TimestampRange?.EndTimestamp, 'EndTimestamp');
      if (end < start) throw invalidArgument('EndTimestamp must not be before StartTimestamp');
      const server = sel.FragmentSelectorType === 'SERVER_TIMESTAMP';
      // fragments overlapping [start, end]
      list = list.filter(({ meta }) => {
        const t = server ? meta.serverMs : meta.producerMs;
        return t <= end && t + Math.max(meta.durationMs, 1) > start;
      });
    }
    if (body.NextToken) {
      const after = String(decodeToken(body.NextToken, 'fragments').after);
      list = list.filter((f) => cmpNumber(f.meta.number, after) > 0);
    }
    const page = list.slice(0, max);
    const out: Json = {
      Fragments: page.map(({ meta }) => ({
        FragmentNumber: meta.number,
        FragmentSizeInBytes: meta.sizeBytes,
        ProducerTimestamp: seconds(meta.producerMs),
        ServerTimestamp: seconds(meta.serverMs),
        FragmentLengthInMilliseconds: Math.round(meta.durationMs),
      })),
    };
    if (list.length > max) out.NextToken = encodeToken('fragments', { after: page[page.length - 1].meta.number });
    return out;
  }

  /** The stored fragment as sent by GetMedia: its header, AWS's tags, its cluster. */
  async mediaFragment(record: StreamRecord, meta: FragmentMeta, extraTags?: Record<string, string>): Promise<Buffer> {
    const bytes = await this.store.readFragment(record, meta);
    const tags = tagsElement({
      AWS_KINESISVIDEO_FRAGMENT_NUMBER: meta.number,
      AWS_KINESISVIDEO_SERVER_TIMESTAMP: seconds(meta.serverMs).toFixed(3),
      AWS_KINESISVIDEO_PRODUCER_TIMESTAMP: seconds(meta.producerMs).toFixed(3),
    });
    const parts = [bytes.subarray(0, meta.headerBytes), tags, bytes.subarray(meta.headerBytes)];
    if (extraTags) parts.push(tagsElement(extraTags));
    return Buffer.concat(parts);
  }

  getMediaForFragmentList(body: Json): { record: StreamRecord; metas: FragmentMeta[] } {
    const record = this.archived(body);
    const wanted = body.Fragments;
    if (!Array.isArray(wanted) || wanted.length < 1 || wanted.length > 1000)
      throw invalidArgument('Fragments must list 1 to 1000 fragment numbers');
    const byNumber = new Map(this.store.fragments(record).map((f) => [f.number, f]));
    const metas = wanted.map((n) => {
      const meta = byNumber.get(String(n));
      if (!meta) throw new ApiError('ResourceNotFoundException', `Fragment ${n} was not found`, 404);
      return meta;
    });
    return { record, metas };
  }

  // ---------- GetImages ----------

  async getImages(body: Json): Promise<Json> {
    const record = this.archived(body);
    const selector = body.ImageSelectorType;
    if (selector !== 'PRODUCER_TIMESTAMP' && selector !== 'SERVER_TIMESTAMP')
      throw invalidArgument('ImageSelectorType must be PRODUCER_TIMESTAMP or SERVER_TIMESTAMP');
    const start = parseTimestamp(body.StartTimestamp, 'StartTimestamp');
    const end = parseTimestamp(body.EndTimestamp, 'EndTimestamp');
    if (end < start) throw invalidArgument('EndTimestamp must not be before StartTimestamp');
    if (end - start > 300_000) throw invalidArgument('The range between StartTimestamp and EndTimestamp must be at most 300 seconds');
    const interval = intParam(body.SamplingInterval, 'SamplingInterval', 200, 20000, 3000);
    const format = body.Format;
    if (format !== 'JPEG' && format !== 'PNG') throw invalidArgument('Format must be JPEG or PNG');
    const width = intParam(body.WidthPixels, 'WidthPixels', 1, 3840, 0) || undefined;
    const height = intParam(body.HeightPixels, 'HeightPixels', 1, 2160, 0) || undefined;
    if (width && !height) throw invalidArgument('WidthPixels requires HeightPixels');
    let quality: number | undefined;
    const fc = body.FormatConfig as Record<string, string> | undefined;
    if (fc && Object.keys(fc).length) {
      if (format !== 'JPEG' || Object.keys(fc).some((k) => k !== 'JPEGQuality')) throw invalidArgument('FormatConfig supports JPEGQuality with Format JPEG only');
      quality = Number(fc.JPEGQuality);
      if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw invalidArgument('JPEGQuality must be an integer from 1 to 100');
    }
    const pageSize = Math.min(intParam(body.MaxResults, 'MaxResults', 1, 100, 25), 25);
    const total = Math.floor((end - start) / interval) + 1;
    const paramsHash = createHash('sha1').update(JSON.stringify([record.StreamARN, selector, start, end, interval])).digest('hex').slice(0, 12);
    let first = 0;
    if (body.NextToken) {
      const tok = decodeToken(body.NextToken, `images:${paramsHash}`);
      if (typeof tok.i !== 'number') throw invalidArgument('NextToken is invalid');
      first = tok.i;
    }
    this.touch(record);
    const samples: number[] = [];
    for (let i = first; i < Math.min(total, first + pageSize); i++) samples.push(start + i * interval);
    const fragments = this.allFragments(record);
    const server = selector === 'SERVER_TIMESTAMP';

    const images = await Promise.all(
      samples.map(async (t) => {
        const loc = this.locate(fragments, t, server);
        if (!loc) return { TimeStamp: seconds(t), Error: 'NO_MEDIA' };
        let frame: CachedFrame | undefined;
        try {
          frame = await this.frameAt(record, loc);
        } catch (e) {
          if (process.env.KVS_DEBUG) console.error('[kinesis-video] decode failed', e);
          return { TimeStamp: seconds(t), Error: 'MEDIA_ERROR' };
        }
        if (!frame) return { TimeStamp: seconds(t), Error: 'NO_MEDIA' };
        const shownMs = server ? loc.meta.serverMs + (frame.ms - loc.meta.producerMs) : frame.ms;
        const content = await this.encode(frame.jpeg, format, width, height, quality);
        return { TimeStamp: seconds(shownMs), ImageContent: content.toString('base64') };
      }),
    );
    const out: Json = { Images: images };
    if (first + samples.length < total) out.NextToken = encodeToken(`images:${paramsHash}`, { i: first + samples.length });
    return out;
  }

  private locate(fragments: { meta: FragmentMeta; live: boolean }[], t: number, server: boolean): Located | undefined {
    for (let i = fragments.length - 1; i >= 0; i--) {
      const { meta, live } = fragments[i];
      const s = server ? meta.serverMs : meta.producerMs;
      if (s > t + 0.5) continue;
      if (t < s + Math.max(meta.durationMs, 1)) return { meta, live, producerMs: meta.producerMs + (t - s) };
      if (!server) return undefined; // producer times are monotonic within a stream: nothing older contains t
    }
    return undefined;
  }

  /** The frame shown at loc.producerMs (the last one at or before it). */
  private async frameAt(record: StreamRecord, loc: Located): Promise<CachedFrame | undefined> {
    const key = fragmentKey(record, loc.meta.number);
    const t = loc.producerMs;
    const pick = (frames: CachedFrame[]): CachedFrame | undefined => {
      let best: CachedFrame | undefined;
      for (const f of frames) if (f.ms <= t + 0.5) best = f;
      return best ?? frames[0];
    };
    let entry = this.cache.get(key);
    if (entry?.complete) return pick(entry.frames);

    // live (or recently live) fragment followed by a live decoder?
    const sessions = [...(this.sessions.get(record.StreamName) ?? [])];
    let coverage = sessions.map((s) => s.coverage(loc.meta.number)).find(Boolean);
    if (!coverage && loc.live) {
      const owner = sessions.find((s) => s.liveFragment?.number === loc.meta.number);
      if (owner && this.liveDecode !== 'never' && owner.startDecoder()) coverage = owner.coverage(loc.meta.number);
      if (!coverage) return undefined; // still arriving and not decodable yet
    }
    if (coverage) {
      let target: number | undefined;
      for (const ft of coverage.frameTimes) if (ft <= t + 0.5) target = target === undefined ? ft : Math.max(target, ft);
      if (target === undefined) return undefined;
      const deadline = Date.now() + this.liveWaitMs;
      for (;;) {
        entry = this.cache.get(key);
        if (!entry) break;
        if (entry.complete || entry.frames.some((f) => f.ms >= (target as number) - 0.5)) return pick(entry.frames);
        const left = deadline - Date.now();
        if (left <= 0 || !entry.liveFed) break;
        await this.cache.wait(entry, left);
      }
      if (loc.live || !this.store.fragments(record).some((f) => f.number === loc.meta.number)) return undefined;
    }
    const decoded = await this.coldDecode(record, loc.meta);
    return pick(decoded.frames);
  }

  private coldDecode(record: StreamRecord, meta: FragmentMeta): Promise<CachedFragment> {
    const key = fragmentKey(record, meta.number);
    let p = this.decoding.get(key);
    if (!p) {
      p = this.coldDecodes
        .run(() => decodeFile(this.store.fragmentPath(record, meta.number)))
        .then((frames) =>
          this.cache.setComplete(
            key,
            frames.map((f) => ({ ms: meta.producerMs + (f.ptsMs - meta.clusterTimecodeMs), jpeg: f.jpeg })),
          ),
        )
        .finally(() => this.decoding.delete(key));
      this.decoding.set(key, p);
    }
    return p;
  }

  private async encode(jpeg: Buffer, format: 'JPEG' | 'PNG', width?: number, height?: number, quality?: number): Promise<Buffer> {
    if (format === 'JPEG' && !width && !height && quality === undefined) return jpeg; // cached as is
    const sharp = (await import('sharp')).default;
    let img = sharp(jpeg);
    if (width && height) img = img.resize(width, height, { fit: 'fill' });
    else if (height) img = img.resize({ height });
    return format === 'PNG' ? img.png().toBuffer() : img.jpeg({ quality: quality ?? 80 }).toBuffer();
  }
}

/** Reads GetMedia / GetMediaForFragmentList output: the AWS tags of each fragment, in order. */
export function fragmentTags(mkv: Buffer): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  let current: Record<string, string> | undefined;
  // returns where it stopped; an EBML header or Segment inside an unknown-size Segment ends it
  const walk = (start: number, end: number, depth: number): number => {
    let p = start;
    while (p < end) {
      const id = readId(mkv, p);
      const size = id && readSize(mkv, p + id.length);
      if (!id || !size) return end;
      if (depth > 0 && (id.id === ID.EBML || id.id === ID.Segment)) return p;
      const dataStart = p + id.length + size.length;
      const dataEnd = size.size < 0 ? end : Math.min(end, dataStart + size.size);
      if (id.id === ID.EBML) out.push((current = {}));
      if (id.id === ID.Segment) {
        p = walk(dataStart, dataEnd, depth + 1);
        continue;
      }
      if (id.id === ID.Tags || id.id === ID.Tag) walk(dataStart, dataEnd, depth + 1);
      if (id.id === ID.SimpleTag && current) {
        let name = '';
        let value = '';
        for (let q = dataStart; q < dataEnd; ) {
          const cid = readId(mkv, q);
          const cs = cid && readSize(mkv, q + cid.length);
          if (!cid || !cs) break;
          const s = q + cid.length + cs.length;
          if (cid.id === ID.TagName) name = mkv.subarray(s, s + cs.size).toString('utf8');
          if (cid.id === ID.TagString) value = mkv.subarray(s, s + cs.size).toString('utf8');
          q = s + cs.size;
        }
        current[name] = value;
      }
      p = dataEnd;
    }
    return p;
  };
  walk(0, mkv.length, 0);
  return out;
}
