/**
 * Video frames for GetImages: ffmpeg decodes H.264 (any codec ffmpeg knows) from MKV into a JPEG per
 * frame (image2pipe), and its showinfo filter gives each frame's exact timestamp on stderr. One ffmpeg
 * process decodes a whole stored fragment (cold path), or follows a live PutMedia session (hot path:
 * frames available tens of ms after they arrive). Decoded frames are cached per fragment (LRU by bytes).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';

export function ffmpegPath(): string {
  if (process.env.FFMPEG_PATH) return process.env.FFMPEG_PATH;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
}

/** ffmpeg quantiser of the cached JPEGs (2 = best .. 31 = worst). */
export const CACHE_JPEG_QSCALE = 3;

export interface DecodedFrame {
  /** Timestamp in ms on the MKV's own timeline (segment-relative, as in the file). */
  ptsMs: number;
  jpeg: Buffer;
}

/** Splits a concatenation of baseline JPEG images (as ffmpeg's image2pipe writes them). */
export class JpegSplitter {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0; // scan position inside buf
  private inScan = false;

  constructor(private readonly onImage: (jpeg: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      const end = this.scan();
      if (end < 0) return;
      this.onImage(Buffer.from(this.buf.subarray(0, end)));
      this.buf = this.buf.subarray(end);
      this.pos = 0;
      this.inScan = false;
    }
  }

  /** Returns the end offset of the first complete image, or -1. */
  private scan(): number {
    const b = this.buf;
    if (this.pos === 0) {
      // resync on SOI
      const soi = b.indexOf(Buffer.from([0xff, 0xd8]));
      if (soi < 0) {
        this.buf = b.subarray(Math.max(0, b.length - 1));
        return -1;
      }
      if (soi > 0) this.buf = b.subarray(soi);
      if (this.buf.length < 2) return -1;
      this.pos = 2;
    }
    const buf = this.buf;
    while (this.pos + 1 < buf.length) {
      if (this.inScan) {
        if (buf[this.pos] !== 0xff) {
          this.pos++;
          continue;
        }
        const next = buf[this.pos + 1];
        if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) {
          this.pos += next === 0xff ? 1 : 2;
          continue;
        }
        this.inScan = false; // a marker ends the entropy-coded data
      }
      if (buf[this.pos] !== 0xff) {
        this.pos++; // tolerate junk between segments
        continue;
      }
      const marker = buf[this.pos + 1];
      if (marker === 0xd9) return this.pos + 2; // EOI
      if (marker === 0xff) {
        this.pos++;
        continue;
      }
      if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
        this.pos += 2;
        continue;
      }
      if (this.pos + 3 >= buf.length) return -1;
      const length = buf.readUInt16BE(this.pos + 2);
      if (this.pos + 2 + length > buf.length) return -1;
      this.pos += 2 + length;
      if (marker === 0xda) this.inScan = true;
    }
    return -1;
  }
}

/** Parses showinfo's stderr lines: the time base, then one "n: pts:" line per frame. */
export class ShowinfoParser {
  private rest = '';
  private num = 1;
  private den = 1000;
  constructor(private readonly onPts: (ptsMs: number) => void) {}

  push(chunk: string): void {
    const lines = (this.rest + chunk).split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.includes('Parsed_showinfo')) continue;
      const tb = /config in time_base: (\d+)\/(\d+)/.exec(line);
      if (tb) {
        this.num = Number(tb[1]);
        this.den = Number(tb[2]) || 1000;
        continue;
      }
      const m = /\bn:\s*\d+\s+pts:\s*(-?\d+)/.exec(line);
      if (m) this.onPts((Number(m[1]) * this.num * 1000) / this.den);
    }
  }
}

function decoderArgs(input: string, live: boolean): string[] {
  return [
    '-hide_banner',
    '-nostats',
    '-loglevel', 'info',
    ...(live ? ['-probesize', '32', '-analyzeduration', '0', '-f', 'matroska'] : []),
    '-copyts',
    '-threads', '1',
    '-i', input,
    '-map', '0:v:0',
    '-vf', 'showinfo',
    '-vsync', '0',
    '-c:v', 'mjpeg',
    '-q:v', String(CACHE_JPEG_QSCALE),
    '-flush_packets', '1',
    '-f', 'image2pipe',
    'pipe:1',
  ];
}

/** Pairs the n-th JPEG with the n-th showinfo timestamp. */
class Pairing {
  private readonly pts: number[] = [];
  private readonly jpegs: Buffer[] = [];
  constructor(private readonly onFrame: (f: DecodedFrame) => void) {}
  addPts(ms: number): void {
    this.pts.push(ms);
    this.flush();
  }
  addJpeg(jpeg: Buffer): void {
    this.jpegs.push(jpeg);
    this.flush();
  }
  private flush(): void {
    while (this.pts.length && this.jpegs.length) {
      this.onFrame({ ptsMs: this.pts.shift() as number, jpeg: this.jpegs.shift() as Buffer });
    }
  }
}

function wire(proc: ChildProcessWithoutNullStreams, onFrame: (f: DecodedFrame) => void, stderrTail: string[]): void {
  const pairing = new Pairing(onFrame);
  const splitter = new JpegSplitter((j) => pairing.addJpeg(j));
  const info = new ShowinfoParser((ms) => pairing.addPts(ms));
  proc.stdout.on('data', (d: Buffer) => splitter.push(d));
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d: string) => {
    info.push(d);
    stderrTail.push(d);
    if (stderrTail.length > 20) stderrTail.shift();
  });
}

/** Decodes every video frame of a self-contained MKV file with one ffmpeg process. */
export function decodeFile(file: string, timeoutMs = 30_000): Promise<DecodedFrame[]> {
  return new Promise((resolve, reject) => {
    const frames: DecodedFrame[] = [];
    const tail: string[] = [];
    const proc = spawn(ffmpegPath(), decoderArgs(file, false), { stdio: ['pipe', 'pipe', 'pipe'] });
    proc.stdin.end();
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    wire(proc, (f) => frames.push(f), tail);
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0 || frames.length) resolve(frames);
      else reject(new Error(`ffmpeg exited with ${code}: ${tail.join('').slice(-500)}`));
    });
  });
}

/**
 * One ffmpeg fed a continuous MKV stream on stdin (header, then clusters as they arrive); emits
 * 'frame' (DecodedFrame) as soon as each is decoded, and 'close' when ffmpeg exits.
 */
export class LiveDecoder extends EventEmitter {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly tail: string[] = [];
  closed = false;

  constructor() {
    super();
    this.proc = spawn(ffmpegPath(), decoderArgs('pipe:0', true), { stdio: ['pipe', 'pipe', 'pipe'] });
    wire(this.proc, (f) => this.emit('frame', f), this.tail);
    this.proc.stdin.on('error', () => undefined);
    this.proc.on('error', () => this.finish());
    this.proc.on('close', () => this.finish());
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }

  write(bytes: Buffer): void {
    if (!this.closed && this.proc.stdin.writable) this.proc.stdin.write(bytes);
  }

  /** Ends the input: ffmpeg flushes the remaining frames and exits. */
  end(): void {
    if (!this.closed) this.proc.stdin.end();
  }

  kill(): void {
    if (!this.closed) this.proc.kill('SIGKILL');
  }

  get stderrTail(): string {
    return this.tail.join('');
  }
}

export interface CachedFrame {
  /** Producer timestamp (ms). */
  ms: number;
  jpeg: Buffer;
}

export interface CachedFragment {
  frames: CachedFrame[];
  /** All frames of the fragment are present. */
  complete: boolean;
  /** Frames are still coming from a live decoder. */
  liveFed: boolean;
  bytes: number;
  waiters: Set<() => void>;
}

/** LRU cache of decoded frames per fragment (key: stream dir + fragment number). */
export class FrameCache {
  private readonly map = new Map<string, CachedFragment>();
  private total = 0;
  constructor(private readonly maxBytes = 256 * 1024 * 1024) {}

  get(key: string): CachedFragment | undefined {
    const entry = this.map.get(key);
    if (entry) {
      this.map.delete(key);
      this.map.set(key, entry);
    }
    return entry;
  }

  /** Entry for live feeding (created if missing). */
  open(key: string): CachedFragment {
    let entry = this.get(key);
    if (!entry) {
      entry = { frames: [], complete: false, liveFed: true, bytes: 0, waiters: new Set() };
      this.map.set(key, entry);
    }
    return entry;
  }

  add(key: string, frame: CachedFrame): void {
    const entry = this.open(key);
    let i = entry.frames.length;
    while (i > 0 && entry.frames[i - 1].ms > frame.ms) i--;
    entry.frames.splice(i, 0, frame);
    entry.bytes += frame.jpeg.length;
    this.total += frame.jpeg.length;
    this.notify(entry);
    this.trim();
  }

  setComplete(key: string, frames?: CachedFrame[]): CachedFragment {
    const entry = this.open(key);
    if (frames) {
      this.total -= entry.bytes;
      entry.frames = frames.slice().sort((a, b) => a.ms - b.ms);
      entry.bytes = frames.reduce((n, f) => n + f.jpeg.length, 0);
      this.total += entry.bytes;
    }
    entry.complete = true;
    entry.liveFed = false;
    this.notify(entry);
    this.trim();
    return entry;
  }

  /** The live decoder stopped before completing this fragment: forget the partial frames. */
  abandon(key: string): void {
    const entry = this.map.get(key);
    if (!entry || entry.complete) return;
    entry.liveFed = false;
    this.delete(key);
    this.notify(entry);
  }

  delete(key: string): void {
    const entry = this.map.get(key);
    if (!entry) return;
    this.total -= entry.bytes;
    this.map.delete(key);
  }

  /** Resolves when the entry changes or after timeoutMs. */
  wait(entry: CachedFragment, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        entry.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      entry.waiters.add(done);
    });
  }

  private notify(entry: CachedFragment): void {
    for (const w of [...entry.waiters]) w();
  }

  private trim(): void {
    for (const [key, entry] of this.map) {
      if (this.total <= this.maxBytes) break;
      if (entry.liveFed) continue;
      this.total -= entry.bytes;
      this.map.delete(key);
    }
  }

  get bytes(): number {
    return this.total;
  }
}
