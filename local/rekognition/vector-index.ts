/**
 * 1:N search over 128-d face descriptors. Exact Euclidean brute force (Float32Array) while small; past
 * `annThreshold` vectors an HNSW index from usearch (inner product on L2-normalised vectors, f16,
 * connectivity 16, expansion_add 128, expansion_search 128) proposes candidates, which are re-ranked by
 * exact Euclidean distance on the stored raw vectors. The ANN index persists to a file.
 */
import fs from 'node:fs';
import { Index, MetricKind, ScalarKind } from 'usearch';

export const DIM = 128;

export interface Hit {
  key: number;
  distance: number;
}

export interface VectorIndexOptions {
  /** Size from which the ANN index is used (default 20000). */
  annThreshold?: number;
  /** ANN candidates fetched per query before the exact re-rank (default 64, at least k). */
  candidates?: number;
  expansionSearch?: number;
}

function normalised(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] * v[i];
  n = Math.sqrt(n) || 1;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] / n;
  return out;
}

export class VectorIndex {
  private data = new Float32Array(DIM * 1024);
  private keys: number[] = [];
  private slotOf = new Map<number, number>();
  private ann: Index | null = null;
  private threshold: number;
  private readonly candidates: number;
  private readonly expansionSearch: number;

  constructor(opts: VectorIndexOptions = {}) {
    this.threshold = opts.annThreshold ?? 20000;
    this.candidates = opts.candidates ?? 64;
    this.expansionSearch = opts.expansionSearch ?? 128;
  }

  get annThreshold(): number {
    return this.threshold;
  }

  /** Sum and count of keys: identifies the key set a saved ANN file must match. */
  fingerprint(): string {
    let sum = 0;
    for (const k of this.keys) sum = (sum + k) % 2 ** 52;
    return `${this.keys.length}:${sum}`;
  }

  get size(): number {
    return this.keys.length;
  }

  get usesAnn(): boolean {
    return this.ann !== null;
  }

  has(key: number): boolean {
    return this.slotOf.has(key);
  }

  vector(key: number): Float32Array | null {
    const slot = this.slotOf.get(key);
    return slot === undefined ? null : this.data.slice(slot * DIM, slot * DIM + DIM);
  }

  add(key: number, vector: ArrayLike<number>): void {
    if (vector.length !== DIM) throw new Error(`vector must have ${DIM} dimensions`);
    if (this.slotOf.has(key)) return;
    const slot = this.keys.length;
    if ((slot + 1) * DIM > this.data.length) {
      const bigger = new Float32Array(Math.max(this.data.length * 2, (slot + 1) * DIM));
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data.set(vector, slot * DIM);
    this.keys.push(key);
    this.slotOf.set(key, slot);
    if (this.ann) this.ann.add(BigInt(key), normalised(this.data.subarray(slot * DIM, slot * DIM + DIM)));
    else if (this.keys.length >= this.threshold) this.buildAnn();
  }

  /** Adds many vectors at once (bulk loading: the ANN index is built once at the end). */
  addMany(keys: number[], vectors: Float32Array): void {
    const hadAnn = this.ann;
    this.ann = null;
    const saved = this.threshold;
    this.threshold = Infinity;
    try {
      for (let i = 0; i < keys.length; i++) this.add(keys[i], vectors.subarray(i * DIM, i * DIM + DIM));
    } finally {
      this.threshold = saved;
    }
    if (hadAnn) {
      this.ann = hadAnn;
      this.addToAnn(keys);
    } else if (this.keys.length >= this.threshold) this.buildAnn();
  }

  remove(key: number): boolean {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return false;
    const last = this.keys.length - 1;
    if (slot !== last) {
      this.data.copyWithin(slot * DIM, last * DIM, last * DIM + DIM);
      const movedKey = this.keys[last];
      this.keys[slot] = movedKey;
      this.slotOf.set(movedKey, slot);
    }
    this.keys.pop();
    this.slotOf.delete(key);
    this.ann?.remove(BigInt(key));
    return true;
  }

  private createAnn(): Index {
    return new Index({
      dimensions: DIM,
      metric: MetricKind.IP,
      quantization: ScalarKind.F16,
      connectivity: 16,
      expansion_add: 128,
      expansion_search: this.expansionSearch,
      multi: false,
    });
  }

  private addToAnn(keys: number[], chunk = 20000): void {
    const ann = this.ann as Index;
    for (let i = 0; i < keys.length; i += chunk) {
      const part = keys.slice(i, i + chunk);
      const mat = new Float32Array(part.length * DIM);
      part.forEach((k, j) => {
        const slot = this.slotOf.get(k) as number;
        mat.set(normalised(this.data.subarray(slot * DIM, slot * DIM + DIM)), j * DIM);
      });
      ann.add(BigUint64Array.from(part.map((k) => BigInt(k))), mat, 2);
    }
  }

  /** Builds the ANN index over everything stored (in chunks, on 2 threads). */
  buildAnn(): void {
    this.ann = this.createAnn();
    this.addToAnn(this.keys.slice());
  }

  /** Exact search: the k nearest within maxDistance, ascending. */
  exact(query: ArrayLike<number>, k: number, maxDistance = Infinity, exclude?: number): Hit[] {
    const n = this.keys.length;
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
      const key = this.keys[s];
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

  /** The k nearest within maxDistance: exact when small, ANN + exact re-rank when large. */
  search(query: ArrayLike<number>, k: number, maxDistance = Infinity, exclude?: number): Hit[] {
    if (!this.ann || k * 4 >= this.keys.length) return this.exact(query, k, maxDistance, exclude);
    const want = Math.min(this.keys.length, Math.max(this.candidates, k + 1));
    const m = this.ann.search(normalised(Float32Array.from(query)), want, 1);
    const q = Float32Array.from(query);
    const hits: Hit[] = [];
    for (let i = 0; i < m.keys.length; i++) {
      const key = Number(m.keys[i]);
      if (key === exclude) continue;
      const slot = this.slotOf.get(key);
      if (slot === undefined) continue;
      let d2 = 0;
      const o = slot * DIM;
      for (let j = 0; j < DIM; j++) {
        const t = this.data[o + j] - q[j];
        d2 += t * t;
      }
      const d = Math.sqrt(d2);
      if (d <= maxDistance) hits.push({ key, distance: d });
    }
    hits.sort((a, b) => a.distance - b.distance);
    if (hits.length > k) hits.length = k;
    return hits;
  }

  /** Saves the ANN index (if any) to `file` (+ `file`.json with the key fingerprint). */
  saveAnn(file: string): boolean {
    if (!this.ann) {
      fs.rmSync(file, { force: true });
      fs.rmSync(`${file}.json`, { force: true });
      return false;
    }
    const tmp = `${file}.tmp`;
    this.ann.save(tmp);
    fs.renameSync(tmp, file);
    fs.writeFileSync(`${file}.json`, JSON.stringify({ fingerprint: this.fingerprint() }));
    return true;
  }

  /** Loads a saved ANN index when it holds exactly the stored keys; otherwise rebuilds it. Returns true if loaded. */
  loadAnn(file: string): boolean {
    if (this.keys.length < this.threshold) return false;
    try {
      const meta = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as { fingerprint?: string };
      if (meta.fingerprint === this.fingerprint()) {
        const ann = this.createAnn();
        ann.load(file);
        if (ann.size() === this.keys.length) {
          this.ann = ann;
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
