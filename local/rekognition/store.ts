/**
 * Collections on disk: <dataDir>/collections/<CollectionId>/collection.json (metadata) and faces.log
 * (append-only JSON lines: face added with its descriptor, faces deleted), read as a stream and compacted
 * when loaded; index.usearch holds the ANN index of large collections, which then also holds the searchable
 * copy of the descriptors: a face's descriptor is read back from its log line when asked for (SearchFaces).
 * Mutations of one collection are serialized.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BoundingBox } from '@aws-sdk/client-rekognition';
import { VectorIndex, type VectorIndexOptions } from './vector-index';

export const FACE_MODEL_VERSION = '7.0';

export interface StoredFace {
  FaceId: string;
  ImageId: string;
  ExternalImageId?: string;
  BoundingBox: BoundingBox;
  Confidence: number;
  IndexFacesModelVersion: string;
  /** Internal numeric key (vector index). */
  key: number;
}

export interface CollectionMeta {
  CollectionId: string;
  CollectionArn: string;
  CreationTimestamp: number; // epoch seconds
  FaceModelVersion: string;
  Tags?: Record<string, string>;
}

type LogLine = { op: 'add'; face: StoredFace; v: string } | { op: 'del'; ids: string[] };

/** A promise-chain mutex. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T> | T): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

const NEWLINE = Buffer.from('\n');
const encodeVector = (v: ArrayLike<number>) => Buffer.from(Float32Array.from(v).buffer).toString('base64');
const decodeVector = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};

/** Where each face's log line is: byte offset and length, by face key (typed arrays: 12 bytes a face). */
class LineIndex {
  private offset = new Float64Array(1024);
  private length = new Uint32Array(1024);

  set(key: number, offset: number, length: number): void {
    if (key >= this.offset.length) {
      const size = Math.max(key + 1, Math.ceil(this.offset.length * 1.5));
      const o = new Float64Array(size);
      o.set(this.offset);
      this.offset = o;
      const l = new Uint32Array(size);
      l.set(this.length);
      this.length = l;
    }
    this.offset[key] = offset;
    this.length[key] = length;
  }

  get(key: number): { offset: number; length: number } | null {
    return key < this.length.length && this.length[key] ? { offset: this.offset[key], length: this.length[key] } : null;
  }

  delete(key: number): void {
    if (key < this.length.length) this.length[key] = 0;
  }
}

/**
 * Calls `onLine` with every line of a file, its byte offset, and whether a newline ends it (only the last line
 * can lack one), reading the file in chunks (logs can exceed a string's maximum length).
 */
function forEachLine(file: string, onLine: (line: Buffer, offset: number, terminated: boolean) => void): void {
  const fd = fs.openSync(file, 'r');
  try {
    const chunk = Buffer.alloc(8 << 20);
    let carry = Buffer.alloc(0);
    let carryAt = 0;
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      const buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      let start = 0;
      for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
        onLine(buf.subarray(start, nl), carryAt + start, true);
        start = nl + 1;
      }
      carryAt += start;
      carry = Buffer.from(buf.subarray(start));
    }
    if (carry.length) onLine(carry, carryAt, false);
  } finally {
    fs.closeSync(fd);
  }
}

export class Collection {
  readonly faces = new Map<string, StoredFace>();
  private readonly byKey = new Map<number, StoredFace>();
  readonly index: VectorIndex;
  readonly lock = new Mutex();
  private nextKey = 1;
  private logFd: number | null = null;
  /** Byte length of faces.log: where the next appended line starts. */
  private logSize = 0;
  private readFd: number | null = null;
  private readonly lines = new LineIndex();
  private dirtyAnn = false;

  constructor(
    readonly meta: CollectionMeta,
    readonly dir: string,
    indexOptions: VectorIndexOptions,
  ) {
    this.index = new VectorIndex({ ...indexOptions, readVector: (key) => this.readVector(key) });
  }

  /** A face's descriptor, read back from its line in faces.log. */
  private readVector(key: number): Float32Array | null {
    const at = this.lines.get(key);
    if (!at) return null;
    if (this.readFd === null) this.readFd = fs.openSync(this.logFile, 'r');
    const buf = Buffer.alloc(at.length);
    fs.readSync(this.readFd, buf, 0, at.length, at.offset);
    const entry = JSON.parse(buf.toString('utf8')) as LogLine;
    return entry.op === 'add' && entry.face.key === key ? decodeVector(entry.v) : null;
  }

  private get logFile() {
    return path.join(this.dir, 'faces.log');
  }
  private get annFile() {
    return path.join(this.dir, 'index.usearch');
  }

  static create(meta: CollectionMeta, dir: string, opts: VectorIndexOptions): Collection {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = path.join(dir, 'collection.json.tmp');
    fs.writeFileSync(tmp, JSON.stringify(meta, null, 2));
    fs.renameSync(tmp, path.join(dir, 'collection.json'));
    fs.writeFileSync(path.join(dir, 'faces.log'), '');
    return new Collection(meta, dir, opts);
  }

  static load(dir: string, opts: VectorIndexOptions): Collection {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'collection.json'), 'utf8')) as CollectionMeta;
    const c = new Collection(meta, dir, opts);
    c.replay();
    return c;
  }

  private replay(): void {
    if (!fs.existsSync(this.logFile)) return;
    const vectors = new Map<string, Float32Array>();
    let lines = 0;
    let torn = false;
    forEachLine(this.logFile, (line, offset, terminated) => {
      if (!line.length) return;
      // A last line without its newline (a crash mid-append) would swallow the next appended line: compact.
      if (!terminated) torn = true;
      let entry: LogLine;
      try {
        entry = JSON.parse(line.toString('utf8')) as LogLine;
      } catch {
        torn = true; // a torn last line after a crash
        return;
      }
      lines++;
      if (entry.op === 'add') {
        const old = this.faces.get(entry.face.FaceId);
        if (old) this.lines.delete(old.key);
        this.faces.set(entry.face.FaceId, entry.face);
        vectors.set(entry.face.FaceId, decodeVector(entry.v));
        this.lines.set(entry.face.key, offset, line.length);
        this.nextKey = Math.max(this.nextKey, entry.face.key + 1);
      } else {
        for (const id of entry.ids) {
          const f = this.faces.get(id);
          if (f) this.lines.delete(f.key);
          this.faces.delete(id);
          vectors.delete(id);
        }
      }
    });
    this.logSize = fs.statSync(this.logFile).size;
    const keys: number[] = [];
    const mat = new Float32Array(this.faces.size * 128);
    let i = 0;
    for (const f of this.faces.values()) {
      this.byKey.set(f.key, f);
      keys.push(f.key);
      mat.set(vectors.get(f.FaceId) as Float32Array, i * 128);
      i++;
    }
    // Bulk-load the exact store, then the ANN index (from its file when it matches, else rebuilt).
    const threshold = this.index.annThreshold;
    this.index.addMany(keys, mat);
    if (keys.length >= threshold && !this.index.loadAnn(this.annFile)) this.dirtyAnn = true;
    if (torn || lines > this.faces.size * 2 + 100) this.compact(vectors);
  }

  /** Rewrites faces.log with one line per live face (and no torn line). */
  private compact(vectors: Map<string, Float32Array>): void {
    const tmp = `${this.logFile}.tmp`;
    const out = fs.openSync(tmp, 'w');
    let size = 0;
    for (const f of this.faces.values()) {
      const line = Buffer.from(JSON.stringify({ op: 'add', face: f, v: encodeVector(vectors.get(f.FaceId) as Float32Array) }));
      this.lines.set(f.key, size, line.length);
      fs.writeSync(out, Buffer.concat([line, NEWLINE]));
      size += line.length + 1;
    }
    fs.fsyncSync(out);
    fs.closeSync(out);
    fs.renameSync(tmp, this.logFile);
    this.logSize = size;
    this.closeReader();
  }

  private closeReader(): void {
    if (this.readFd !== null) fs.closeSync(this.readFd);
    this.readFd = null;
  }

  /** Appends a line; returns its byte offset and length. */
  private append(entry: LogLine): { offset: number; length: number } {
    if (this.logFd === null) this.logFd = fs.openSync(this.logFile, 'a');
    const line = Buffer.from(JSON.stringify(entry));
    fs.writeSync(this.logFd, Buffer.concat([line, NEWLINE]));
    const offset = this.logSize;
    this.logSize += line.length + 1;
    return { offset, length: line.length };
  }

  /** Adds a face (caller holds the lock). */
  addFace(face: Omit<StoredFace, 'key'>, descriptor: ArrayLike<number>): StoredFace {
    const stored: StoredFace = { ...face, key: this.nextKey++ };
    const at = this.append({ op: 'add', face: stored, v: encodeVector(descriptor) });
    this.lines.set(stored.key, at.offset, at.length);
    this.faces.set(stored.FaceId, stored);
    this.byKey.set(stored.key, stored);
    this.index.add(stored.key, descriptor);
    this.dirtyAnn = this.dirtyAnn || this.index.usesAnn;
    return stored;
  }

  /** Deletes faces (caller holds the lock); returns the ids that existed. */
  deleteFaces(ids: string[]): string[] {
    const gone = ids.filter((id) => this.faces.has(id));
    if (!gone.length) return gone;
    this.append({ op: 'del', ids: gone });
    for (const id of gone) {
      const f = this.faces.get(id) as StoredFace;
      this.faces.delete(id);
      this.byKey.delete(f.key);
      this.lines.delete(f.key);
      this.index.remove(f.key);
    }
    this.dirtyAnn = this.dirtyAnn || this.index.usesAnn;
    return gone;
  }

  faceByKey(key: number): StoredFace | undefined {
    return this.byKey.get(key);
  }

  descriptor(faceId: string): Float32Array | null {
    const f = this.faces.get(faceId);
    return f ? this.index.vector(f.key) : null;
  }

  /** Flushes the ANN index to disk and closes the log. */
  close(): void {
    if (this.dirtyAnn) this.index.saveAnn(this.annFile);
    this.dirtyAnn = false;
    if (this.logFd !== null) fs.closeSync(this.logFd);
    this.logFd = null;
    this.closeReader();
  }

  destroy(): void {
    if (this.logFd !== null) fs.closeSync(this.logFd);
    this.logFd = null;
    this.closeReader();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export class CollectionStore {
  readonly collections = new Map<string, Collection>();
  readonly lock = new Mutex();
  private readonly root: string;

  constructor(
    dataDir: string,
    private readonly indexOptions: VectorIndexOptions = {},
  ) {
    this.root = path.join(dataDir, 'collections');
    fs.mkdirSync(this.root, { recursive: true });
    for (const name of fs.readdirSync(this.root)) {
      const dir = path.join(this.root, name);
      if (!fs.existsSync(path.join(dir, 'collection.json'))) continue;
      const c = Collection.load(dir, indexOptions);
      this.collections.set(c.meta.CollectionId, c);
    }
  }

  get(id: string): Collection | undefined {
    return this.collections.get(id);
  }

  create(meta: CollectionMeta): Collection {
    // CollectionIds are case-sensitive [a-zA-Z0-9_.-]: encode to stay distinct on case-insensitive disks.
    const dirName = Buffer.from(meta.CollectionId).toString('hex');
    const c = Collection.create(meta, path.join(this.root, dirName), this.indexOptions);
    this.collections.set(meta.CollectionId, c);
    return c;
  }

  delete(id: string): boolean {
    const c = this.collections.get(id);
    if (!c) return false;
    this.collections.delete(id);
    c.destroy();
    return true;
  }

  close(): void {
    for (const c of this.collections.values()) c.close();
  }
}
