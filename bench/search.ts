/**
 * 1:N search benchmark on synthetic clustered 128-d "faces" (identities as cluster centres, photos as noisy
 * copies at face-api-like distances): ANN (usearch HNSW, as used past the collection's ANN threshold) vs
 * exact brute force in the same run. `--max N` picks the largest size (default 1000000).
 * Ends with: n=<N> p50_ms=<x> p99_ms=<y> recall1=<r> brute_p50_ms=<z> rss_mb=<m>
 */
import { VectorIndex, DIM } from '../local/rekognition/vector-index';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

/** Deterministic PRNG (mulberry32) + Gaussian. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
  return { next, gauss };
}

/** Identities spread like face-api descriptors (distinct people ~0.75 apart, photos of one person ~0.4). */
function dataset(n: number, seed: number): { vectors: Float32Array; centres: Float32Array; perId: number } {
  const r = rng(seed);
  const perId = 5;
  const ids = Math.ceil(n / perId);
  const centres = new Float32Array(ids * DIM);
  for (let i = 0; i < centres.length; i++) centres[i] = r.gauss() * (0.53 / Math.sqrt(2 * DIM)) * Math.SQRT2;
  const vectors = new Float32Array(n * DIM);
  const sigma = 0.4 / Math.sqrt(2 * DIM);
  for (let v = 0; v < n; v++) {
    const c = Math.floor(v / perId);
    for (let d = 0; d < DIM; d++) vectors[v * DIM + d] = centres[c * DIM + d] + r.gauss() * sigma;
  }
  return { vectors, centres, perId };
}

const pct = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))];

async function main(): Promise<void> {
  const max = arg('max', 1_000_000);
  const queries = arg('queries', 300);
  const sizes = [10_000, 100_000, 1_000_000].filter((s) => s <= max);
  if (!sizes.includes(max)) sizes.push(max);
  let last = '';
  for (const n of sizes) {
    const { vectors, centres } = dataset(n, 42);
    const index = new VectorIndex({ annThreshold: 0 });
    const t0 = Date.now();
    const keys = Array.from({ length: n }, (_, i) => i + 1);
    index.addMany(keys, vectors);
    const buildS = (Date.now() - t0) / 1000;
    const r = rng(7);
    const ann: number[] = [];
    const brute: number[] = [];
    let agree = 0;
    for (let q = 0; q < queries; q++) {
      // A new photo of a known identity.
      const c = Math.floor(r.next() * (centres.length / DIM));
      const query = new Float32Array(DIM);
      for (let d = 0; d < DIM; d++) query[d] = centres[c * DIM + d] + r.gauss() * (0.4 / Math.sqrt(2 * DIM));
      let t = process.hrtime.bigint();
      const a = index.search(query, 1);
      ann.push(Number(process.hrtime.bigint() - t) / 1e6);
      t = process.hrtime.bigint();
      const b = index.exact(query, 1);
      brute.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (a[0]?.key === b[0]?.key) agree++;
    }
    const rss = process.memoryUsage().rss / 2 ** 20;
    console.log(
      `n=${n}: build ${buildS.toFixed(1)} s; ANN p50 ${pct(ann, 0.5).toFixed(3)} ms p99 ${pct(ann, 0.99).toFixed(3)} ms; ` +
        `brute p50 ${pct(brute, 0.5).toFixed(1)} ms; recall@1 ${(agree / queries).toFixed(4)}; RSS ${rss.toFixed(0)} MB`,
    );
    last = `n=${n} p50_ms=${pct(ann, 0.5).toFixed(3)} p99_ms=${pct(ann, 0.99).toFixed(3)} recall1=${(agree / queries).toFixed(4)} brute_p50_ms=${pct(brute, 0.5).toFixed(1)} rss_mb=${rss.toFixed(0)}`;
  }
  console.log(last);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
