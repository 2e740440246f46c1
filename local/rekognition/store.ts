/**
 * Collections on disk: <dataDir>/collections/<CollectionId>/collection.json (metadata) and faces.log
 * (append-only JSON lines: face added with its descriptor, faces deleted), compacted when loaded;
 * index.usearch holds the ANN index of large collections. Mutations of one collection are serialized.
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

const encodeVector = (v: ArrayLike<number>) => Buffer.from(Float32Array.from(v).buffer).toString('base64');
const decodeVector = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};

export class Collection {
  readonly faces = new Map<string, StoredFace>();
  private readonly byKey = new Map<number, StoredFace>();
  readonly index: VectorIndex;
  readonly lock = new Mutex();
  private nextKey = 1;
  private logFd: number | null = null;
  private dirtyAnn = false;

  constructor(
    readonly meta: CollectionMeta,
    readonly dir: string,
    indexOptions: VectorIndexOptions,
  ) {
    this.index = new VectorIndex(indexOptions);
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
    const text = fs.readFileSync(this.logFile, 'utf8');
    const vectors = new Map<string, Float32Array>();
    let lines = 0;
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let entry: LogLine;
      try {
        entry = JSON.parse(line) as LogLine;
      } catch {
        continue; // a torn last line after a crash
      }
      lines++;
      if (entry.op === 'add') {
        this.faces.set(entry.face.FaceId, entry.face);
        vectors.set(entry.face.FaceId, decodeVector(entry.v));
        this.nextKey = Math.max(this.nextKey, entry.face.key + 1);
      } else {
        for (const id of entry.ids) {
          this.faces.delete(id);
          vectors.delete(id);
        }
      }
    }
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
    if (lines > this.faces.size * 2 + 100) this.compact(vectors);
  }

  private compact(vectors: Map<string, Float32Array>): void {
    const tmp = `${this.logFile}.tmp`;
    const out = fs.openSync(tmp, 'w');
    for (const f of this.faces.values()) fs.writeSync(out, JSON.stringify({ op: 'add', face: f, v: encodeVector(vectors.get(f.FaceId) as Float32Array) }) + '\n');
    fs.fsyncSync(out);
    fs.closeSync(out);
    fs.renameSync(tmp, this.logFile);
  }

  private append(line: LogLine): void {
    if (this.logFd === null) this.logFd = fs.openSync(this.logFile, 'a');
    fs.writeSync(this.logFd, JSON.stringify(line) + '\n');
  }

  /** Adds a face (caller holds the lock). */
  addFace(face: Omit<StoredFace, 'key'>, descriptor: ArrayLike<number>): StoredFace {
    const stored: StoredFace = { ...face, key: this.nextKey++ };
    this.append({ op: 'add', face: stored, v: encodeVector(descriptor) });
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
  }

  destroy(): void {
    if (this.logFd !== null) fs.closeSync(this.logFd);
    this.logFd = null;
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
