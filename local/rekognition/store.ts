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
import { DIM, VectorIndex, type VectorIndexOptions } from './vector-index';

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
const BLANK = 0x20; // a space
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

/** Descriptors are read from the log into the index this many rows at a time. */
const REPLAY_BLOCK = 65536;

/** A 30-bit FNV-1a hash of a string (30 bits: a small integer to V8, so a Map entry allocates nothing more). */
export function hash30(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 2;
}

/** Face keys bucketed by the hash of a string (FaceId, ImageId): the strings themselves stay in the log. */
class KeyBuckets {
  private readonly map = new Map<number, number | number[]>();

  add(s: string, key: number): void {
    const h = hash30(s);
    const at = this.map.get(h);
    if (at === undefined) this.map.set(h, key);
    else if (typeof at === 'number') this.map.set(h, [at, key]);
    else at.push(key);
  }

  remove(s: string, key: number): void {
    const h = hash30(s);
    const at = this.map.get(h);
    if (at === key) this.map.delete(h);
    else if (Array.isArray(at)) {
      const rest = at.filter((k) => k !== key);
      this.map.set(h, rest.length === 1 ? rest[0] : rest);
    }
  }

  /** The keys whose string hashes like `s` (a superset: check each against its log line). */
  keys(s: string): number[] {
    const at = this.map.get(hash30(s));
    return at === undefined ? [] : typeof at === 'number' ? [at] : at;
  }
}

/**
 * One collection. Memory per face is kept small, since a collection may hold a million faces: its key in two
 * hash buckets (by FaceId and by ImageId) and where its line is in faces.log. Everything else about a face,
 * its ids, metadata and descriptor, is read back from that line when asked for.
 */
export class Collection {
  readonly index: VectorIndex;
  readonly lock = new Mutex();
  private readonly byFaceId = new KeyBuckets();
  private readonly byImage = new KeyBuckets();
  private count = 0;
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

  /** The raw bytes of a live face's line in faces.log. */
  private readLine(key: number): Buffer | null {
    const at = this.lines.get(key);
    if (!at) return null;
    if (this.readFd === null) this.readFd = fs.openSync(this.logFile, 'r');
    const buf = Buffer.alloc(at.length);
    fs.readSync(this.readFd, buf, 0, at.length, at.offset);
    return buf;
  }

  /** A live face's log entry (its metadata and descriptor). */
  private readEntry(key: number): { face: StoredFace; v: string } | null {
    const buf = this.readLine(key);
    if (!buf) return null;
    const entry = JSON.parse(buf.toString('utf8')) as LogLine;
    return entry.op === 'add' && entry.face.key === key ? entry : null;
  }

  /** A face's descriptor, read back from its line in faces.log. */
  private readVector(key: number): Float32Array | null {
    const entry = this.readEntry(key);
    return entry ? decodeVector(entry.v) : null;
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

  /** The live face with this FaceId (its key from the hash bucket, confirmed by its log line). */
  face(faceId: string): StoredFace | undefined {
    for (const key of this.byFaceId.keys(faceId)) {
      const f = this.faceByKey(key);
      if (f?.FaceId === faceId) return f;
    }
    return undefined;
  }

  private remember(face: StoredFace, offset: number, length: number): void {
    this.lines.set(face.key, offset, length);
    this.byFaceId.add(face.FaceId, face.key);
    this.byImage.add(face.ImageId, face.key);
    this.count++;
  }

  /** Forgets a face in memory (its log line stays until compaction). */
  private forget(face: StoredFace): void {
    this.byFaceId.remove(face.FaceId, face.key);
    this.byImage.remove(face.ImageId, face.key);
    this.lines.delete(face.key);
    this.count--;
  }

  private replay(): void {
    if (!fs.existsSync(this.logFile)) return;
    let lines = 0;
    let torn = false;
    forEachLine(this.logFile, (line, offset, terminated) => {
      if (!line.length) return;
      lines++;
      // The add line of a deleted face, blanked when it was deleted (see deleteFaces).
      if (line[0] === BLANK && line.every((b) => b === BLANK)) return;
      // A last line without its newline (a crash mid-append) would swallow the next appended line: compact.
      if (!terminated) torn = true;
      let entry: LogLine;
      try {
        entry = JSON.parse(line.toString('utf8')) as LogLine;
      } catch {
        torn = true; // a torn last line after a crash
        return;
      }
      if (entry.op === 'add') {
        const old = this.face(entry.face.FaceId);
        if (old) this.forget(old);
        this.remember(entry.face, offset, line.length);
        this.nextKey = Math.max(this.nextKey, entry.face.key + 1);
      } else {
        for (const id of entry.ids) {
          const f = this.face(id);
          if (f) this.forget(f);
        }
      }
    });
    this.logSize = fs.statSync(this.logFile).size;
    // A large collection whose saved graph matches its faces starts from the graph alone (the descriptors stay
    // in the log); otherwise the descriptors are read into the index, which then loads or rebuilds its graph.
    if (!this.index.loadAnnWithoutVectors(this.liveKeys(), this.annFile)) {
      this.loadVectors();
      if (this.size >= this.index.annThreshold && !this.index.loadAnn(this.annFile)) this.dirtyAnn = true;
    }
    if (torn || lines > this.size * 2 + 100) this.compact();
  }

  /** The live faces' keys, ascending (which is also the order of their lines in the log). */
  private liveKeys(): number[] {
    const keys: number[] = [];
    for (let key = 0; key < this.nextKey; key++) if (this.lines.get(key)) keys.push(key);
    return keys;
  }

  /** Reads the live faces' descriptors from the log into the index, in blocks of rows (no per-face allocation). */
  private loadVectors(): void {
    const live = this.liveKeys(); // in the order of their lines
    const rows = Math.min(REPLAY_BLOCK, live.length);
    const block = new Float32Array(rows * DIM);
    let keys: number[] = [];
    const flush = () => {
      this.index.addMany(keys, block.subarray(0, keys.length * DIM));
      keys = [];
    };
    let next = 0;
    forEachLine(this.logFile, (line, offset) => {
      const key = live[next];
      if (next >= live.length || offset !== this.lines.get(key)?.offset) return; // not a live face's add line
      next++;
      const entry = JSON.parse(line.toString('utf8')) as LogLine;
      if (entry.op !== 'add' || entry.face.key !== key) throw new Error(`faces.log changed while it was being read (key ${key})`);
      block.set(decodeVector(entry.v), keys.length * DIM);
      keys.push(key);
      if (keys.length === rows) flush();
    });
    if (keys.length) flush();
  }

  /** Rewrites faces.log with one line per live face (and no torn line), in key order. */
  private compact(): void {
    const tmp = `${this.logFile}.tmp`;
    const out = fs.openSync(tmp, 'w');
    const moved: Array<[number, number, number]> = [];
    let size = 0;
    for (let key = 0; key < this.nextKey; key++) {
      const line = this.readLine(key);
      if (!line) continue;
      moved.push([key, size, line.length]);
      fs.writeSync(out, Buffer.concat([line, NEWLINE]));
      size += line.length + 1;
    }
    fs.fsyncSync(out);
    fs.closeSync(out);
    fs.renameSync(tmp, this.logFile);
    for (const [key, offset, length] of moved) this.lines.set(key, offset, length);
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

  /** How many faces the collection holds. */
  get size(): number {
    return this.count;
  }

  /** Adds a face (caller holds the lock). */
  addFace(face: Omit<StoredFace, 'key'>, descriptor: ArrayLike<number>): StoredFace {
    const stored: StoredFace = { ...face, key: this.nextKey++ };
    const at = this.append({ op: 'add', face: stored, v: encodeVector(descriptor) });
    this.remember(stored, at.offset, at.length);
    this.index.add(stored.key, descriptor);
    this.dirtyAnn = this.dirtyAnn || this.index.usesAnn;
    return stored;
  }

  /**
   * Deletes faces (caller holds the lock); returns the ids that existed. Faces are biometric data: besides the
   * delete line, each deleted face's add line (its ids and descriptor) is overwritten with spaces on disk at
   * once, not at the next compaction.
   */
  deleteFaces(ids: string[]): string[] {
    const faces = [...new Set(ids)].map((id) => this.face(id)).filter((f): f is StoredFace => f !== undefined);
    if (!faces.length) return [];
    this.append({ op: 'del', ids: faces.map((f) => f.FaceId) });
    const fd = fs.openSync(this.logFile, 'r+');
    try {
      for (const f of faces) {
        const at = this.lines.get(f.key);
        if (at) fs.writeSync(fd, Buffer.alloc(at.length, BLANK), 0, at.length, at.offset);
        this.forget(f);
        this.index.remove(f.key);
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    this.dirtyAnn = this.dirtyAnn || this.index.usesAnn;
    return faces.map((f) => f.FaceId);
  }

  /** A face's metadata, by its key (read from its log line). */
  faceByKey(key: number): StoredFace | undefined {
    return this.readEntry(key)?.face;
  }

  /** The faces indexed from the image with this ImageId. */
  facesOfImage(imageId: string): StoredFace[] {
    return this.byImage
      .keys(imageId)
      .map((k) => this.faceByKey(k))
      .filter((f): f is StoredFace => f?.ImageId === imageId);
  }

  /** Up to `limit` faces with a key above `afterKey`, in key order (the order they were indexed). */
  facesAfter(afterKey: number, limit: number): StoredFace[] {
    const out: StoredFace[] = [];
    for (let key = Math.max(0, Math.floor(afterKey) + 1); key < this.nextKey && out.length < limit; key++) {
      const f = this.lines.get(key) ? this.faceByKey(key) : undefined;
      if (f) out.push(f);
    }
    return out;
  }

  /** The faces with these FaceIds that are in the collection. */
  facesWithIds(faceIds: Iterable<string>): StoredFace[] {
    const faces: StoredFace[] = [];
    for (const id of faceIds) {
      const f = this.face(id);
      if (f) faces.push(f);
    }
    return faces;
  }

  descriptor(faceId: string): Float32Array | null {
    const f = this.face(faceId);
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
