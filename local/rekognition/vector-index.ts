/**
 * 1:N search over 128-d face descriptors. Exact Euclidean brute force (Float32Array) while small; past
 * `annThreshold` vectors an HNSW index from usearch proposes `candidates` neighbours, which are re-ranked
 * by exact Euclidean distance on the stored float32 vectors, so distances (and therefore similarities)
 * are always exact and only the candidate set is approximate.
 *
 * Why inner product on L2-normalised vectors and not usearch's L2sq: on clustered face-like data usearch's
 * L2sq graph left whole photos unreachable (recall capped near 0.6–0.9 whatever the search depth), while the
 * IP graph reaches them; angular order differs slightly from Euclidean order, which the re-rank absorbs.
 * The ANN index is persisted with the collection and loaded as is when it matches the stored faces.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Index, MetricKind, ScalarKind } from 'usearch';

export const DIM = 128;

export interface Hit {
  key: number;
  distance: number;
}

export type AnnQuantization = 'f16' | 'i8';

export interface VectorIndexOptions {
  /** Size from which the ANN index is used (default 20000). */
  annThreshold?: number;
  /** ANN candidates fetched per query before the exact re-rank (default 128, at least k + 1). */
  candidates?: number;
  /** HNSW search beam width (default 512: 1M-face recall needs it, see README). */
  expansionSearch?: number;
  /** Storage of the vectors inside the ANN index (default 'f16': i8 loses candidates); the re-rank always uses float32. */
  quantization?: AnnQuantization;
  /** HNSW links per node (default 16). */
  connectivity?: number;
}

/** Everything that shapes a saved ANN file: a file built with other settings is rebuilt, not loaded. */
const ANN_FORMAT = 2;
const EXPANSION_ADD = 128;
const BUILD_CHUNK = 20000;

function normalisedInto(src: Float32Array, out: Float32Array, at: number): void {
  let n = 0;
  for (let i = 0; i < DIM; i++) n += src[i] * src[i];
  n = Math.sqrt(n) || 1;
  for (let i = 0; i < DIM; i++) out[at + i] = src[i] / n;
}

function normalised(v: ArrayLike<number>): Float32Array {
  const src = Float32Array.from(v);
  const out = new Float32Array(DIM);
  normalisedInto(src, out, 0);
  return out;
}

const threads = () => Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);

/**
 * Key → slot. Typed arrays, not a Map, for the usual small non-negative integer keys (the store numbers
 * faces 1, 2, 3…): a Map costs ~40 bytes per face, this 4.
 */
class SlotMap {
  private dense = new Int32Array(0); // slot + 1, 0 = absent
  private readonly sparse = new Map<number, number>();

  get(key: number): number | undefined {
    if (key >= 0 && key < this.dense.length && Number.isInteger(key)) {
      const s = this.dense[key];
      if (s) return s - 1;
    }
    return this.sparse.get(key);
  }

  set(key: number, slot: number, count: number): void {
    if (Number.isInteger(key) && key >= 0 && key < Math.max(1 << 20, 4 * count)) {
      if (key >= this.dense.length) {
        const bigger = new Int32Array(Math.max(key + 1, Math.ceil(this.dense.length * 1.5), 1024));
        bigger.set(this.dense);
        this.dense = bigger;
      }
      if (this.dense[key] || !this.sparse.has(key)) {
        this.dense[key] = slot + 1;
        return;
      }
    }
    this.sparse.set(key, slot);
  }

  delete(key: number): void {
    if (key >= 0 && key < this.dense.length && Number.isInteger(key) && this.dense[key]) this.dense[key] = 0;
    else this.sparse.delete(key);
  }
}

export class VectorIndex {
  private data = new Float32Array(DIM * 1024);
  /** Slot → key; slots 0..count-1 are live. */
  private slotKeys = new Float64Array(1024);
  private count = 0;
  private slotOf = new SlotMap();
  private ann: Index | null = null;
  /** Large enough for an ANN index that is not built yet: built on first use, or loaded from its file. */
  private annPending = false;
  private threshold: number;
  private readonly candidates: number;
  private readonly expansionSearch: number;
  private readonly quantization: AnnQuantization;
  private readonly connectivity: number;

  constructor(opts: VectorIndexOptions = {}) {
    this.threshold = opts.annThreshold ?? 20000;
    this.candidates = opts.candidates ?? 128;
    this.expansionSearch = opts.expansionSearch ?? 512;
    this.quantization = opts.quantization ?? 'f16';
    this.connectivity = opts.connectivity ?? 16;
  }

  get annThreshold(): number {
    return this.threshold;
  }

  /** Sum and count of keys: identifies the key set a saved ANN file must match. */
  fingerprint(): string {
    let sum = 0;
    for (let s = 0; s < this.count; s++) sum = (sum + this.slotKeys[s]) % 2 ** 52;
    return `${this.count}:${sum}`;
  }

  private annParams() {
    return { format: ANN_FORMAT, metric: 'ip', quantization: this.quantization, connectivity: this.connectivity, expansionAdd: EXPANSION_ADD };
  }

  get size(): number {
    return this.count;
  }

  /** True when searches go through the ANN index (built lazily on the first search after a bulk load). */
  get usesAnn(): boolean {
    return this.ann !== null || this.annPending;
  }

  has(key: number): boolean {
    return this.slotOf.get(key) !== undefined;
  }

  vector(key: number): Float32Array | null {
    const slot = this.slotOf.get(key);
    return slot === undefined ? null : this.data.slice(slot * DIM, slot * DIM + DIM);
  }

  private reserve(slots: number): void {
    if (slots <= this.slotKeys.length) return;
    // Grow by 1.5x, not 2x: at a million faces every spare slot is 512 bytes of float32.
    const size = Math.max(Math.ceil(this.slotKeys.length * 1.5), slots);
    const bigger = new Float32Array(size * DIM);
    bigger.set(this.data.subarray(0, this.count * DIM));
    this.data = bigger;
    const keys = new Float64Array(size);
    keys.set(this.slotKeys.subarray(0, this.count));
    this.slotKeys = keys;
  }

  private store(key: number, vector: ArrayLike<number>): number {
    if (vector.length !== DIM) throw new Error(`vector must have ${DIM} dimensions`);
    const slot = this.count;
    this.reserve(slot + 1);
    this.data.set(vector, slot * DIM);
    this.slotKeys[slot] = key;
    this.count++;
    this.slotOf.set(key, slot, this.count);
    return slot;
  }

  add(key: number, vector: ArrayLike<number>): void {
    if (this.has(key)) return;
    const slot = this.store(key, vector);
    if (this.ann) this.ann.add(BigInt(key), normalised(this.data.subarray(slot * DIM, slot * DIM + DIM)));
    else if (!this.annPending && this.count >= this.threshold) this.buildAnn();
  }

  /**
   * Adds many vectors at once. The ANN index is not built here: the first search builds it, or `loadAnn`
   * loads it from its file (so a restart does not rebuild a million-face graph only to discard it).
   */
  addMany(keys: number[], vectors: Float32Array): void {
    if (vectors.length !== keys.length * DIM) throw new Error(`vectors must hold ${keys.length} × ${DIM} numbers`);
    this.reserve(this.count + keys.length);
    const added: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      if (this.has(keys[i])) continue;
      this.store(keys[i], vectors.subarray(i * DIM, i * DIM + DIM));
      added.push(keys[i]);
    }
    if (this.ann) this.addToAnn(added);
    else if (this.count >= this.threshold) this.annPending = true;
  }

  remove(key: number): boolean {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return false;
    const last = this.count - 1;
    this.slotOf.delete(key);
    if (slot !== last) {
      this.data.copyWithin(slot * DIM, last * DIM, last * DIM + DIM);
      const movedKey = this.slotKeys[last];
      this.slotKeys[slot] = movedKey;
      this.slotOf.set(movedKey, slot, this.count);
    }
    this.count--;
    this.ann?.remove(BigInt(key));
    return true;
  }

  private createAnn(): Index {
    return new Index({
      dimensions: DIM,
      metric: MetricKind.IP,
      quantization: this.quantization === 'i8' ? ScalarKind.I8 : ScalarKind.F16,
      connectivity: this.connectivity,
      expansion_add: EXPANSION_ADD,
      expansion_search: this.expansionSearch,
      multi: false,
    });
  }

  /** Adds stored vectors to the ANN index in chunks (bounded extra memory), on every core. */
  private addToAnn(keys: number[]): void {
    const ann = this.ann as Index;
    const n = threads();
    for (let i = 0; i < keys.length; i += BUILD_CHUNK) {
      const part = keys.slice(i, i + BUILD_CHUNK);
      const mat = new Float32Array(part.length * DIM);
      const ids = new BigUint64Array(part.length);
      part.forEach((k, j) => {
        const slot = this.slotOf.get(k) as number;
        normalisedInto(this.data.subarray(slot * DIM, slot * DIM + DIM), mat, j * DIM);
        ids[j] = BigInt(k);
      });
      ann.add(ids, mat, n);
    }
  }

  /** Builds the ANN index over everything stored. */
  buildAnn(): void {
    this.annPending = false;
    this.ann = this.createAnn();
    this.addToAnn(Array.from(this.slotKeys.subarray(0, this.count)));
  }

  private ensureAnn(): void {
    if (this.annPending) this.buildAnn();
  }

  /** Exact search: the k nearest within maxDistance, ascending. */
  exact(query: ArrayLike<number>, k: number, maxDistance = Infinity, exclude?: number): Hit[] {
    const n = this.count;
    const data = this.data;
    const limit2 = maxDistance === Infinity ? Infinity : maxDistance * maxDistance;
    const q = Float32Array.from(query);
    const hits: Hit[] = [];
    let worst = limit2;
    for (let s = 0; s < n; s++) {
      let d2 = 0;
      const o = s * DIM;
      for (let i = 0; i < DIM; i++) {
        const t = data[o + i] - q[i];
        d2 += t * t;
      }
      if (d2 > worst) continue;
      const key = this.slotKeys[s];
      if (key === exclude) continue;
      hits.push({ key, distance: d2 });
      if (hits.length > 4 * k + 64) {
        hits.sort((a, b) => a.distance - b.distance);
        hits.length = k;
        worst = hits[k - 1].distance;
      }
    }
    hits.sort((a, b) => a.distance - b.distance);
    if (hits.length > k) hits.length = k;
    for (const h of hits) h.distance = Math.sqrt(h.distance);
    return hits;
  }

  /** The k nearest within maxDistance: exact when small, ANN candidates + exact float32 re-rank when large. */
  search(query: ArrayLike<number>, k: number, maxDistance = Infinity, exclude?: number): Hit[] {
    if (!this.usesAnn || k * 4 >= this.count) return this.exact(query, k, maxDistance, exclude);
    this.ensureAnn();
    const ann = this.ann as Index;
    const want = Math.min(this.count, Math.max(this.candidates, k + 1));
    const m = ann.search(normalised(query), want, 1);
    const q = Float32Array.from(query);
    const data = this.data;
    const hits: Hit[] = [];
    for (let i = 0; i < m.keys.length; i++) {
      const key = Number(m.keys[i]);
      if (key === exclude) continue;
      const slot = this.slotOf.get(key);
      if (slot === undefined) continue;
      let d2 = 0;
      const o = slot * DIM;
      for (let j = 0; j < DIM; j++) {
        const t = data[o + j] - q[j];
        d2 += t * t;
      }
      const d = Math.sqrt(d2);
      if (d <= maxDistance) hits.push({ key, distance: d });
    }
    hits.sort((a, b) => a.distance - b.distance);
    if (hits.length > k) hits.length = k;
    return hits;
  }

  /** Saves the ANN index (if any) to `file` (+ `file`.json with the key fingerprint and index settings). */
  saveAnn(file: string): boolean {
    this.ensureAnn();
    if (!this.ann) {
      fs.rmSync(file, { force: true });
      fs.rmSync(`${file}.json`, { force: true });
      return false;
    }
    const tmp = `${file}.tmp`;
    this.ann.save(tmp);
    fs.renameSync(tmp, file);
    fs.writeFileSync(`${file}.json`, JSON.stringify({ fingerprint: this.fingerprint(), ...this.annParams() }));
    return true;
  }

  /**
   * Loads a saved ANN index when it holds exactly the stored keys and was built with the same settings;
   * otherwise builds it. Returns true if loaded.
   */
  loadAnn(file: string): boolean {
    if (this.count < this.threshold) return false;
    try {
      const meta = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as Record<string, unknown>;
      const want = { fingerprint: this.fingerprint(), ...this.annParams() } as Record<string, unknown>;
      if (Object.keys(want).every((k) => meta[k] === want[k])) {
        const ann = this.createAnn();
        ann.load(file);
        if (ann.size() === this.count) {
          this.ann = ann;
          this.annPending = false;
          return true;
        }
      }
    } catch {
      /* missing or stale: rebuild below */
    }
    this.buildAnn();
    return false;
  }
}
