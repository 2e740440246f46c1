/**
 * Minimal EBML / Matroska support for the local Kinesis Video Streams service and the camera producer:
 * primitives to read and write elements, and a streaming parser that turns a continuous MKV byte stream
 * (as sent to PutMedia: EBML header, Segment of unknown size, Info, Tracks, then Clusters of known or
 * unknown size) into events. Only what KVS needs is interpreted; everything else is skipped.
 */

export const ID = {
  EBML: 0x1a45dfa3,
  Segment: 0x18538067,
  SeekHead: 0x114d9b74,
  Info: 0x1549a966,
  TimecodeScale: 0x2ad7b1,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackType: 0x83,
  CodecID: 0x86,
  DefaultDuration: 0x23e383,
  Video: 0xe0,
  PixelWidth: 0xb0,
  PixelHeight: 0xba,
  Cluster: 0x1f43b675,
  Timecode: 0xe7,
  SimpleBlock: 0xa3,
  BlockGroup: 0xa0,
  Block: 0xa1,
  ReferenceBlock: 0xfb,
  Cues: 0x1c53bb6b,
  Tags: 0x1254c367,
  Tag: 0x7373,
  Targets: 0x63c0,
  SimpleTag: 0x67c8,
  TagName: 0x45a3,
  TagString: 0x4487,
  Chapters: 0x1043a770,
  Attachments: 0x1941a469,
  Void: 0xec,
  CRC32: 0xbf,
} as const;

/** Elements that sit directly under Segment: one of these ends a Cluster of unknown size. */
const LEVEL1 = new Set<number>([
  ID.SeekHead, ID.Info, ID.Tracks, ID.Cluster, ID.Cues, ID.Tags, ID.Chapters, ID.Attachments,
]);

export const UNKNOWN_SIZE = -1;
const MAX_ELEMENT = 64 * 1024 * 1024;

export class EbmlError extends Error {}

/** Reads an element ID (marker bits kept, as IDs are written in specs). Returns undefined if incomplete. */
export function readId(buf: Uint8Array, pos: number): { id: number; length: number } | undefined {
  if (pos >= buf.length) return undefined;
  const first = buf[pos];
  let length = 1;
  while (length <= 4 && !(first & (0x80 >> (length - 1)))) length++;
  if (length > 4) throw new EbmlError(`invalid EBML ID at byte ${pos}`);
  if (pos + length > buf.length) return undefined;
  let id = 0;
  for (let i = 0; i < length; i++) id = id * 256 + buf[pos + i];
  return { id, length };
}

/** Reads a data-size vint. Size UNKNOWN_SIZE (-1) when all value bits are 1. */
export function readSize(buf: Uint8Array, pos: number): { size: number; length: number } | undefined {
  if (pos >= buf.length) return undefined;
  const first = buf[pos];
  let length = 1;
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length++;
  if (length > 8) throw new EbmlError(`invalid EBML size at byte ${pos}`);
  if (pos + length > buf.length) return undefined;
  let value = first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    const b = buf[pos + i];
    if (b !== 0xff) allOnes = false;
    value = value * 256 + b;
  }
  return { size: allOnes ? UNKNOWN_SIZE : value, length };
}

export function readUint(buf: Uint8Array): number {
  let v = 0;
  for (const b of buf) v = v * 256 + b;
  return v;
}

export function encodeId(id: number): Buffer {
  const bytes: number[] = [];
  let v = id;
  while (v > 0) {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  }
  return Buffer.from(bytes.length ? bytes : [0]);
}

export function encodeSize(size: number): Buffer {
  if (size === UNKNOWN_SIZE) return Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  for (let length = 1; length <= 8; length++) {
    const max = 2 ** (7 * length) - 2; // all-ones is reserved for "unknown"
    if (size <= max) {
      const out = Buffer.alloc(length);
      let v = size;
      for (let i = length - 1; i >= 0; i--) {
        out[i] = v % 256;
        v = Math.floor(v / 256);
      }
      out[0] |= 0x80 >> (length - 1);
      return out;
    }
  }
  throw new EbmlError(`size too large: ${size}`);
}

export function element(id: number, payload: Buffer | Buffer[]): Buffer {
  const body = Array.isArray(payload) ? Buffer.concat(payload) : payload;
  return Buffer.concat([encodeId(id), encodeSize(body.length), body]);
}

export function uintElement(id: number, value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  do {
    bytes.unshift(v % 256);
    v = Math.floor(v / 256);
  } while (v > 0);
  return element(id, Buffer.from(bytes));
}

export function stringElement(id: number, value: string): Buffer {
  return element(id, Buffer.from(value, 'utf8'));
}

/** Header of a master element whose size is not known (live streaming). */
export function unknownSizeHeader(id: number): Buffer {
  return Buffer.concat([encodeId(id), encodeSize(UNKNOWN_SIZE)]);
}

/** Iterates the children of a fully buffered master element payload. */
export function* children(payload: Uint8Array): Generator<{ id: number; data: Uint8Array; start: number; end: number }> {
  let pos = 0;
  while (pos < payload.length) {
    const id = readId(payload, pos);
    if (!id) return;
    const size = readSize(payload, pos + id.length);
    if (!size) return;
    const dataStart = pos + id.length + size.length;
    const end = size.size === UNKNOWN_SIZE ? payload.length : Math.min(payload.length, dataStart + size.size);
    yield { id: id.id, data: payload.subarray(dataStart, end), start: pos, end };
    pos = end;
  }
}

export interface TrackInfo {
  number: number;
  type: number; // 1 video, 2 audio
  codecId: string;
  width?: number;
  height?: number;
  defaultDurationNs?: number;
}

export function parseTracks(payload: Uint8Array): TrackInfo[] {
  const tracks: TrackInfo[] = [];
  for (const entry of children(payload)) {
    if (entry.id !== ID.TrackEntry) continue;
    const track: TrackInfo = { number: 0, type: 0, codecId: '' };
    for (const c of children(entry.data)) {
      if (c.id === ID.TrackNumber) track.number = readUint(c.data);
      else if (c.id === ID.TrackType) track.type = readUint(c.data);
      else if (c.id === ID.CodecID) track.codecId = Buffer.from(c.data).toString('latin1');
      else if (c.id === ID.DefaultDuration) track.defaultDurationNs = readUint(c.data);
      else if (c.id === ID.Video) {
        for (const v of children(c.data)) {
          if (v.id === ID.PixelWidth) track.width = readUint(v.data);
          else if (v.id === ID.PixelHeight) track.height = readUint(v.data);
        }
      }
    }
    tracks.push(track);
  }
  return tracks;
}

export function parseTimecodeScale(infoPayload: Uint8Array): number {
  for (const c of children(infoPayload)) if (c.id === ID.TimecodeScale) return readUint(c.data);
  return 1_000_000;
}

export interface BlockInfo {
  track: number;
  /** Timecode relative to the cluster, in TimecodeScale units (signed 16 bits). */
  relativeTimecode: number;
  keyframe: boolean;
  /** Offset of the 2-byte relative timecode inside the block payload (to rewrite it). */
  timecodeOffset: number;
}

/** Parses the header of a SimpleBlock or Block payload. */
export function parseBlock(payload: Uint8Array, simple: boolean): BlockInfo {
  const track = readSize(payload, 0);
  if (!track || payload.length < track.length + 3) throw new EbmlError('truncated block');
  const off = track.length;
  const rel = (payload[off] << 8) | payload[off + 1];
  const relativeTimecode = rel & 0x8000 ? rel - 0x10000 : rel;
  const flags = payload[off + 2];
  return { track: track.size, relativeTimecode, keyframe: simple ? (flags & 0x80) !== 0 : true, timecodeOffset: off };
}

/** For a BlockGroup payload: its Block and whether it references others (not a keyframe). */
export function parseBlockGroup(payload: Uint8Array): BlockInfo | undefined {
  let block: BlockInfo | undefined;
  let hasReference = false;
  for (const c of children(payload)) {
    if (c.id === ID.Block) {
      block = parseBlock(c.data, false);
      block.timecodeOffset += c.data.byteOffset - payload.byteOffset; // offset within the BlockGroup payload
    } else if (c.id === ID.ReferenceBlock) hasReference = true;
  }
  if (block) block.keyframe = !hasReference;
  return block;
}

export type ClusterChild =
  | { kind: 'timecode'; raw: Buffer; timecode: number }
  | { kind: 'block'; raw: Buffer; block: BlockInfo; /** offset of the payload in raw */ payloadOffset: number; simple: boolean }
  | { kind: 'other'; raw: Buffer };

export interface MkvEvents {
  header?(raw: Buffer): void;
  segmentStart?(): void;
  info?(raw: Buffer, timecodeScaleNs: number): void;
  tracks?(raw: Buffer, tracks: TrackInfo[]): void;
  clusterStart?(): void;
  clusterChild?(child: ClusterChild): void;
  clusterEnd?(): void;
  /** Any other level-1 element (Tags, Cues, SeekHead...). */
  other?(id: number, raw: Buffer): void;
}

type Frame = { id: number; end: number /* absolute end offset, or -1 when unknown */ };

/**
 * Push-based streaming Matroska parser. Feed bytes with push(); events fire synchronously.
 * Handles Segments and Clusters of unknown size (live streams) and several EBML headers in one stream.
 */
export class MkvStreamParser {
  private buf: Buffer = Buffer.alloc(0);
  private off = 0; // read offset in buf
  private consumed = 0; // absolute offset of buf[0]
  private stack: Frame[] = [];

  constructor(private readonly events: MkvEvents) {}

  get position(): number {
    return this.consumed + this.off;
  }

  push(chunk: Buffer): void {
    this.buf = this.off < this.buf.length ? Buffer.concat([this.buf.subarray(this.off), chunk]) : chunk;
    this.consumed += this.off;
    this.off = 0;
    this.drain();
  }

  /** Signals end of input: closes open containers. */
  end(): void {
    while (this.stack.length) this.pop();
  }

  private pop(): void {
    const f = this.stack.pop();
    if (f?.id === ID.Cluster) this.events.clusterEnd?.();
  }

  private drain(): void {
    for (;;) {
      // close containers whose known end is reached
      while (this.stack.length) {
        const top = this.stack[this.stack.length - 1];
        if (top.end >= 0 && this.position >= top.end) this.pop();
        else break;
      }
      const id = readId(this.buf, this.off);
      if (!id) return;
      const size = readSize(this.buf, this.off + id.length);
      if (!size) return;
      const headerLength = id.length + size.length;
      const top = this.stack[this.stack.length - 1];
      const parent = top?.id;

      // An element that cannot be a child of an unknown-size container closes it.
      if (top && top.end < 0) {
        if (parent === ID.Cluster && (LEVEL1.has(id.id) || id.id === ID.EBML || id.id === ID.Segment)) {
          this.pop();
          continue;
        }
        if (parent === ID.Segment && (id.id === ID.EBML || id.id === ID.Segment)) {
          this.pop();
          continue;
        }
      }

      const descend =
        (id.id === ID.Segment && parent === undefined) || (id.id === ID.Cluster && parent === ID.Segment);
      if (descend) {
        this.off += headerLength;
        const end = size.size === UNKNOWN_SIZE ? -1 : this.position + size.size;
        this.stack.push({ id: id.id, end });
        if (id.id === ID.Segment) this.events.segmentStart?.();
        else this.events.clusterStart?.();
        continue;
      }
      if (size.size === UNKNOWN_SIZE) throw new EbmlError(`unknown size not supported for element 0x${id.id.toString(16)}`);
      if (size.size > MAX_ELEMENT) throw new EbmlError(`element 0x${id.id.toString(16)} too large (${size.size} bytes)`);
      const total = headerLength + size.size;
      if (this.off + total > this.buf.length) return; // wait for more data
      const raw = Buffer.from(this.buf.subarray(this.off, this.off + total));
      const payload = raw.subarray(headerLength);
      this.off += total;
      this.dispatch(id.id, parent, raw, payload, headerLength);
    }
  }

  private dispatch(id: number, parent: number | undefined, raw: Buffer, payload: Buffer, headerLength: number): void {
    if (parent === undefined) {
      if (id === ID.EBML) this.events.header?.(raw);
      return; // junk at top level is ignored
    }
    if (parent === ID.Segment) {
      if (id === ID.Info) this.events.info?.(raw, parseTimecodeScale(payload));
      else if (id === ID.Tracks) this.events.tracks?.(raw, parseTracks(payload));
      else this.events.other?.(id, raw);
      return;
    }
    if (parent === ID.Cluster) {
      if (id === ID.Timecode) this.events.clusterChild?.({ kind: 'timecode', raw, timecode: readUint(payload) });
      else if (id === ID.SimpleBlock)
        this.events.clusterChild?.({ kind: 'block', raw, block: parseBlock(payload, true), payloadOffset: headerLength, simple: true });
      else if (id === ID.BlockGroup) {
        const block = parseBlockGroup(payload);
        if (block) this.events.clusterChild?.({ kind: 'block', raw, block, payloadOffset: headerLength, simple: false });
        else this.events.clusterChild?.({ kind: 'other', raw });
      } else this.events.clusterChild?.({ kind: 'other', raw });
    }
  }
}

/** Returns a copy of a SimpleBlock/BlockGroup element with its relative timecode replaced. */
export function withRelativeTimecode(child: Extract<ClusterChild, { kind: 'block' }>, relative: number): Buffer {
  if (relative < -32768 || relative > 32767) throw new EbmlError(`relative timecode out of range: ${relative}`);
  const out = Buffer.from(child.raw);
  const at = child.payloadOffset + child.block.timecodeOffset;
  out.writeInt16BE(relative, at);
  return out;
}

/** A Tags element with one Tag holding the given simple tags (as AWS adds to GetMedia output). */
export function tagsElement(tags: Record<string, string>): Buffer {
  const simple = Object.entries(tags).map(([name, value]) =>
    element(ID.SimpleTag, [stringElement(ID.TagName, name), stringElement(ID.TagString, value)]),
  );
  return element(ID.Tags, element(ID.Tag, [element(ID.Targets, Buffer.alloc(0)), ...simple]));
}
