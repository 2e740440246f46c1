/**
 * 1:N search over 128-d face descriptors. Exact Euclidean brute force (Float32Array) while small; past
 * `annThreshold` vectors an HNSW graph from usearch (L2sq metric, vectors stored as float16: half the memory
 * of float32 and the same recall, which pays for a denser graph; local/rekognition/README.md).
 *
 * usearch's distances are those of the float16 copies; the best candidates are re-ranked on the float32
 * descriptors, so every distance returned is exact and only *which* faces are returned is approximate.
 *
 * A search adapts its effort to the query: the first pass (beam `expansionSearch`) also returns the 64 nearest
 * candidates it found; when the 64th is hardly further than the best (a crowded neighbourhood: look-alikes all
 * round, where a fixed beam misses the nearest most often), it searches again with a 4× wider beam. At a million
 * faces about one query in five is widened; the others cost one pass (local/rekognition/README.md).
 *
 * Once the graph holds the vectors, this class no longer keeps its own float32 copy (at a million faces that
 * copy is 512 MB): `vector(key)` and the re-rank then read a face's descriptor back through `readVector` (the
 * collection reads it from its log). Without a `readVector` the copy is kept. The graph is persisted with the
 * collection and loaded as is when it matches the stored faces and settings.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Index, MetricKind, ScalarKind } from 'usearch';

export const DIM = 128;

export interface Hit {
  key: number;
  distance: number;
}

export interface VectorIndexOptions {
  /** Size from which the ANN index is used (default 20000). */
  annThreshold?: number;
  /** HNSW search beam width (default 256; local/rekognition/README.md has the recall and latency it buys). */
  expansionSearch?: number;
  /** Beam width of the second pass in a crowded neighbourhood (default 4 × expansionSearch; 0 = never widen). */
  expansionWide?: number;
  /**
   * A neighbourhood is crowded when the first pass's 64th candidate lies within this fraction of the best
   * candidate's distance (default 0.14; 0 = never widen).
   */
  crowdedSpread?: number;
  /** HNSW links per node (default 48). */
  connectivity?: number;
  /** HNSW beam width while inserting (default 512): a better graph for a slower build. */
  expansionAdd?: number;
  /** Where a face's descriptor can be read back once the ANN index holds the searchable copy. */
  readVector?: (key: number) => Float32Array | null;
}

/** Everything that shapes a saved ANN file: a file built with other settings is rebuilt, not loaded. */
const ANN_FORMAT = 4;
const BUILD_CHUNK = 20000;
/** Candidates re-ranked on float32 beyond the ones asked for: float16 rounding can swap near-ties. */
const RERANK_MARGIN = 2;

/** Candidates the first pass returns to judge how crowded the query's neighbourhood is. */
const CROWD_PROBE = 64;
/** Calibrated at 1M faces on a query set of its own (not the benchmark's): local/rekognition/README.md. */
const CROWDED_SPREAD = 0.14;
const WIDE_FACTOR = 4;

/** How the graph stores its vectors (recorded in the saved file's settings). */
const QUANTIZATION = ScalarKind.F16;

/** Squared Euclidean distance between the DIM numbers of `v` from `at` and `q`. */
function squaredDistance(v: ArrayLike<number>, at: number, q: ArrayLike<number>): number {
  let d2 = 0;
  for (let i = 0; i < DIM; i++) {
    const t = v[at + i] - q[i];
    d2 += t * t;
  }
  return d2;
}

/** Sum and count of keys: identifies the key set a saved ANN file must match. */
function fingerprintOf(keys: ArrayLike<number>): string {
  let sum = 0;
  for (let i = 0; i < keys.length; i++) sum = (sum + keys[i]) % 2 ** 52;
  return `${keys.length}:${sum}`;
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
  /** Slot-ordered float32 vectors; emptied once the ANN index holds them and `readVector` can read them back. */
  private data: Float32Array | null = new Float32Array(DIM * 1024);
  /** Slot → key; slots 0..count-1 are live. */
  private slotKeys = new Float64Array(1024);
  private count = 0;
  private slotOf = new SlotMap();
  private ann: Index | null = null;
  /** Large enough for an ANN index that is not built yet: built on first use, or loaded from its file. */
  private annPending = false;
  private threshold: number;
  private readonly expansionSearch: number;
  private readonly expansionWide: number;
  private readonly crowdedSpread: number;
  private readonly expansionAdd: number;
  private readonly connectivity: number;
  private readonly readVector?: (key: number) => Float32Array | null;
  /** ANN searches since construction, and how many of them took the wider second pass. */
  private readonly annStats = { searches: 0, widened: 0 };

  constructor(opts: VectorIndexOptions = {}) {
    this.threshold = opts.annThreshold ?? 20000;
    this.expansionSearch = opts.expansionSearch ?? 256;
    this.expansionWide = opts.expansionWide ?? WIDE_FACTOR * this.expansionSearch;
    this.crowdedSpread = opts.crowdedSpread ?? CROWDED_SPREAD;
    this.expansionAdd = opts.expansionAdd ?? 512;
    this.connectivity = opts.connectivity ?? 48;
    this.readVector = opts.readVector;
  }

  get annThreshold(): number {
    return this.threshold;
  }

  /** Sum and count of keys: identifies the key set a saved ANN file must match. */
  fingerprint(): string {
    return fingerprintOf(this.slotKeys.subarray(0, this.count));
  }

  /** The settings a saved ANN file is built with (a file with other settings is rebuilt). */
  annParams() {
    return {
      format: ANN_FORMAT,
      metric: 'l2sq',
      quantization: QUANTIZATION,
      connectivity: this.connectivity,
      expansionAdd: this.expansionAdd,
    };
  }

  /** How many ANN searches ran, and how many were widened (crowded neighbourhoods). */
  get searchStats(): { searches: number; widened: number } {
    return { ...this.annStats };
  }

  get size(): number {
    return this.count;
  }

  /** True when searches go through the ANN index (built lazily on the first search after a bulk load). */
  get usesAnn(): boolean {
    return this.ann !== null || this.annPending;
  }

  /** True while this class keeps its own copy of the vectors (always below the ANN threshold). */
  get holdsVectors(): boolean {
    return this.data !== null;
  }

  has(key: number): boolean {
    return this.slotOf.get(key) !== undefined;
  }

  vector(key: number): Float32Array | null {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return null;
    if (this.data) return this.data.slice(slot * DIM, slot * DIM + DIM);
    return this.readVector?.(key) ?? null;
  }

  private reserve(slots: number): void {
    if (slots <= this.slotKeys.length) return;
    // Grow by 1.5x, not 2x: at a million faces every spare slot is 512 bytes of float32.
    const size = Math.max(Math.ceil(this.slotKeys.length * 1.5), slots);
    if (this.data) {
      const bigger = new Float32Array(size * DIM);
      bigger.set(this.data.subarray(0, this.count * DIM));
      this.data = bigger;
    }
    const keys = new Float64Array(size);
    keys.set(this.slotKeys.subarray(0, this.count));
    this.slotKeys = keys;
  }

  /** Gives `key` the next slot, with its vector (null: the ANN index already holds it, and `data` is dropped). */
  private store(key: number, vector: ArrayLike<number> | null): number {
    if (vector && vector.length !== DIM) throw new Error(`vector must have ${DIM} dimensions`);
    const slot = this.count;
    this.reserve(slot + 1);
    if (vector) this.data?.set(vector, slot * DIM);
    this.slotKeys[slot] = key;
    this.count++;
    this.slotOf.set(key, slot, this.count);
    return slot;
  }

  add(key: number, vector: ArrayLike<number>): void {
    if (this.has(key)) return;
    this.store(key, vector);
    if (this.ann) this.ann.add(BigInt(key), Float32Array.from(vector));
    else if (this.count >= this.threshold) this.buildAnn();
  }

  /**
   * Adds many vectors at once. The ANN index is not built here: the first search builds it, or `loadAnn`
   * loads it from its file (so a restart does not rebuild a million-face graph only to discard it).
   */
  addMany(keys: number[], vectors: Float32Array): void {
    if (vectors.length !== keys.length * DIM) throw new Error(`vectors must hold ${keys.length} × ${DIM} numbers`);
    this.reserve(this.count + keys.length);
    const added: number[] = [];
    const rows: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      if (this.has(keys[i])) continue;
      this.store(keys[i], vectors.subarray(i * DIM, i * DIM + DIM));
      added.push(keys[i]);
      rows.push(i);
    }
    if (this.ann) this.addToAnn(added, (j) => vectors.subarray(rows[j] * DIM, rows[j] * DIM + DIM));
    else if (this.count >= this.threshold) this.annPending = true;
  }

  remove(key: number): boolean {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return false;
    const last = this.count - 1;
    this.slotOf.delete(key);
    if (slot !== last) {
      this.data?.copyWithin(slot * DIM, last * DIM, last * DIM + DIM);
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
      metric: MetricKind.L2sq,
      quantization: QUANTIZATION,
      connectivity: this.connectivity,
      expansion_add: this.expansionAdd,
      expansion_search: this.expansionSearch,
      multi: false,
    });
  }

  /** Adds vectors to the ANN index in chunks (bounded extra memory), on every core. */
  private addToAnn(keys: number[], vectorOf: (i: number) => Float32Array): void {
    const ann = this.ann as Index;
    const n = threads();
    for (let i = 0; i < keys.length; i += BUILD_CHUNK) {
      const part = keys.slice(i, i + BUILD_CHUNK);
      const mat = new Float32Array(part.length * DIM);
      const ids = new BigUint64Array(part.length);
      part.forEach((k, j) => {
        mat.set(vectorOf(i + j), j * DIM);
        ids[j] = BigInt(k);
      });
      ann.add(ids, mat, n);
    }
  }

  /** The ANN index now holds every vector: drop this class's copy if they can be read back elsewhere. */
  private releaseVectors(): void {
    if (this.readVector) this.data = null;
  }

  /** Builds the ANN index over everything stored (the vectors must still be held here). */
  buildAnn(): void {
    const data = this.data;
    if (!data) throw new Error('the ANN index can only be rebuilt while the vectors are held in memory');
    this.annPending = false;
    this.ann = this.createAnn();
    // Slot i holds the i-th key's vector.
    this.addToAnn(Array.from(this.slotKeys.subarray(0, this.count)), (i) => data.subarray(i * DIM, i * DIM + DIM));
    this.releaseVectors();
  }

  private ensureAnn(): void {
    if (this.annPending) this.buildAnn();
  }

  /** Exact search over the vectors held in memory: the k nearest within maxDistance, ascending. */
  exact(query: ArrayLike<number>, k: number, maxDistance = Infinity, exclude?: number): Hit[] {
    const data = this.data;
    if (!data) throw new Error('exact search needs the vectors in memory; the ANN index holds them now');
    const n = this.count;
    const limit2 = maxDistance === Infinity ? Infinity : maxDistance * maxDistance;
    const q = Float32Array.from(query);
    const hits: Hit[] = [];
    let worst = limit2;
    for (let s = 0; s < n; s++) {
      const d2 = squaredDistance(data, s * DIM, q);
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

  /** The k nearest within maxDistance: exact while small, through the ANN index when large. */
  search(query: ArrayLike<number>, k: number, maxDistance = Infinity, exclude?: number): Hit[] {
    if (!this.usesAnn || (this.data && k * 4 >= this.count)) return this.exact(query, k, maxDistance, exclude);
    this.ensureAnn();
    const ann = this.ann as Index;
    const want = Math.min(this.count, (exclude === undefined ? k : k + 1) + RERANK_MARGIN);
    if (want <= 0) return [];
    const q = Float32Array.from(query);
    // The first pass's beam is max(expansion_search, k) in usearch: asking for more results widens it.
    const first = Math.max(want, CROWD_PROBE);
    let m = ann.search(q, Math.min(this.count, first), 1);
    this.annStats.searches++;
    if (this.expansionWide > Math.max(first, this.expansionSearch) && this.crowded(m.distances)) {
      m = ann.search(q, Math.min(this.count, this.expansionWide), 1);
      this.annStats.widened++;
    }
    // The best candidates by float16 distance, re-ranked on their float32 descriptors.
    const hits: Hit[] = [];
    for (let i = 0; i < Math.min(want, m.keys.length); i++) {
      const key = Number(m.keys[i]);
      if (key === exclude || !this.has(key)) continue;
      const d = this.exactDistance(key, q);
      if (d !== null && d <= maxDistance) hits.push({ key, distance: d });
    }
    hits.sort((a, b) => a.distance - b.distance || a.key - b.key);
    if (hits.length > k) hits.length = k;
    return hits;
  }

  /** True when the CROWD_PROBE-th candidate is within `crowdedSpread` of the best (`d2`: squared distances, ascending). */
  private crowded(d2: Float32Array): boolean {
    if (this.crowdedSpread <= 0 || d2.length < CROWD_PROBE) return false;
    return Math.sqrt(d2[CROWD_PROBE - 1]) <= Math.sqrt(d2[0]) * (1 + this.crowdedSpread);
  }

  /** Euclidean distance from `q` to a stored face's float32 descriptor (null if it cannot be read). */
  private exactDistance(key: number, q: Float32Array): number | null {
    let v: ArrayLike<number> | null;
    let at = 0;
    const slot = this.slotOf.get(key);
    if (this.data && slot !== undefined) {
      v = this.data;
      at = slot * DIM;
    } else v = this.readVector?.(key) ?? null;
    return v ? Math.sqrt(squaredDistance(v, at, q)) : null;
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
    const ann = this.savedAnn(file, this.fingerprint(), this.count);
    if (!ann) {
      this.buildAnn();
      return false;
    }
    this.ann = ann;
    this.annPending = false;
    this.releaseVectors();
    return true;
  }

  /**
   * Starts an empty index from a saved ANN file that holds exactly `keys`, without their vectors: the graph holds
   * the searchable copy and `readVector` reads a face's descriptor back. Returns false, changing nothing, when
   * the file is missing, does not match, the collection is below the ANN threshold or there is no `readVector`:
   * then add the vectors and call `loadAnn`. Spares a large collection's restart from decoding its descriptors.
   */
  loadAnnWithoutVectors(keys: number[], file: string): boolean {
    if (this.count > 0 || !this.readVector || keys.length < this.threshold) return false;
    const ann = this.savedAnn(file, fingerprintOf(keys), keys.length);
    if (!ann) return false;
    this.data = null;
    this.reserve(keys.length);
    for (const key of keys) this.store(key, null);
    this.ann = ann;
    this.annPending = false;
    return true;
  }

  /** The saved ANN index in `file` if it was built for this key fingerprint and these settings, else null. */
  private savedAnn(file: string, fingerprint: string, size: number): Index | null {
    try {
      const meta = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as Record<string, unknown>;
      const want = { fingerprint, ...this.annParams() } as Record<string, unknown>;
      if (!Object.keys(want).every((k) => meta[k] === want[k])) return null;
      const ann = this.createAnn();
      ann.load(file);
      return ann.size() === size ? ann : null;
    } catch {
      return null; // missing or unreadable: rebuilt by the caller
    }
  }
}
