/**
 * Synthetic face descriptors for the search and collection benchmarks, and the saved HNSW graph over them
 * (built once per data set and index settings, cached under .cache/bench/search/).
 *
 * Synthetic faces are calibrated on real face-api descriptors (dlib's bald_guys.jpg: same person 0.26–0.58,
 * median 0.44; different people 0.55–1.0, median 0.74): people with 1–5 photos each, identity centres and
 * photo noise with the per-dimension spread measured on real descriptors (see CENTRE_SD), photos at 0.2–0.4
 * from their centre. Queries are new photos of enrolled people.
 */
import crypto from 'node:crypto';
import { fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { VectorIndex, DIM, type VectorIndexOptions } from '../local/rekognition/vector-index';

export const GENERATOR = 'persons-1to5-centres0.95-v2';
const SEED = 42;
const QUERY_SEED = 7;

export function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
export function argStr(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
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

/** Per-dimension standard deviations whose variances decay as i^-alpha and sum to `total`. */
function spectrum(alpha: number, total: number): number[] {
  const lam = Array.from({ length: DIM }, (_, i) => Math.pow(i + 1, -alpha));
  const sum = lam.reduce((a, b) => a + b, 0);
  return lam.map((l) => Math.sqrt((total * l) / sum));
}

/*
 * The shapes below are measured on real face-api descriptors (dlib's photos: 24 labelled faces of 4 people in
 * bald_guys.jpg, 43 faces of other people in the PASCAL photos), by the participation ratio (PR) of their
 * covariance, i.e. how many dimensions they really fill:
 * - identity centres: the 47 distinct people have PR 15.3 (isotropic vectors would give 34); variances
 *   decaying as i^-0.95 give the same PR. Total variance 0.177, so that two people's centres are ≈ 0.6 apart
 *   and, with photo noise, different people's photos land at ≈ 0.56–0.9 (real: 0.55–1.0, median 0.74);
 * - photo noise (how one photo of a person differs from their centre, `anisotropic`, the default): bald_guys'
 *   within-person deviations have PR 12.8 (isotropic noise would give 17.1 with the same 4 × 6 design),
 *   variances decaying as i^-0.8 give 12.8; 55% of their energy lies in the 35 leading between-person
 *   directions (isotropic 27%, this model 51%). `isotropic` spreads the same radius over all 128 dimensions.
 */
const CENTRE_SD = spectrum(0.95, 0.177);
export type Noise = 'anisotropic' | 'isotropic';
export const NOISE_SD: Record<Noise, number[]> = {
  anisotropic: spectrum(0.8, 1),
  isotropic: spectrum(0, 1),
};

/** A photo of the person at `centre`: noise of radius 0.2–0.4 (same person ≈ 0.3–0.55 apart). */
function photo(centre: Float32Array, r: ReturnType<typeof rng>, out: Float32Array, at: number, noise: Noise): void {
  const radius = 0.2 + 0.2 * r.next();
  const sd = NOISE_SD[noise];
  for (let d = 0; d < DIM; d++) out[at + d] = centre[d] + r.gauss() * radius * sd[d];
}

export interface Dataset {
  vectors: Float32Array;
  owner: Int32Array;
  queries: Float32Array;
  queryOwner: Int32Array;
}

export function dataset(n: number, queries: number, noise: Noise): Dataset {
  const r = rng(SEED);
  const vectors = new Float32Array(n * DIM);
  const owner = new Int32Array(n);
  const centres: Float32Array[] = [];
  for (let v = 0; v < n; ) {
    const centre = new Float32Array(DIM);
    for (let d = 0; d < DIM; d++) centre[d] = r.gauss() * CENTRE_SD[d];
    centres.push(centre);
    const photos = 1 + Math.floor(r.next() * 5);
    for (let p = 0; p < photos && v < n; p++, v++) {
      owner[v] = centres.length - 1;
      photo(centre, r, vectors, v * DIM, noise);
    }
  }
  const rq = rng(QUERY_SEED);
  const qs = new Float32Array(queries * DIM);
  const queryOwner = new Int32Array(queries);
  for (let q = 0; q < queries; q++) {
    queryOwner[q] = Math.floor(rq.next() * centres.length);
    photo(centres[queryOwner[q]], rq, qs, q * DIM, noise);
  }
  return { vectors, owner, queries: qs, queryOwner };
}

/** Face i has key i (0-based, as an index into the data set). */
export const keysOf = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Where the benchmarks keep what they build for these faces and index settings (a hash of both). */
export function cacheDir(n: number, noise: Noise, options: VectorIndexOptions): { dir: string; annFile: string; tag: string } {
  const tag = JSON.stringify({ GENERATOR, noise, SEED, n, index: new VectorIndex(options).annParams() });
  const dir = path.resolve(__dirname, '..', '..', '.cache', 'bench', 'search', crypto.createHash('sha1').update(tag).digest('hex').slice(0, 16));
  return { dir, annFile: path.join(dir, 'index.usearch'), tag };
}

/**
 * The saved ANN graph the service would load for these faces (keys 0..n-1) and index settings: reused from the
 * cache while the data and settings are unchanged, else built and saved (1M faces: ~50 min on 2 cores).
 */
export function savedGraph(n: number, noise: Noise, vectors: Float32Array, options: VectorIndexOptions): { dir: string; annFile: string; build: string } {
  const { dir, annFile, tag } = cacheDir(n, noise, options);
  const stamp = path.join(dir, 'build.json');
  const cached = fs.existsSync(stamp) ? (JSON.parse(fs.readFileSync(stamp, 'utf8')) as { tag: string; buildS: number }) : null;
  if (cached && cached.tag === tag && fs.existsSync(annFile)) return { dir, annFile, build: `index reused from ${path.relative(process.cwd(), dir)} (built in ${cached.buildS.toFixed(0)} s)` };
  fs.mkdirSync(dir, { recursive: true });
  const t0 = Date.now();
  const builder = new VectorIndex({ ...options, annThreshold: 0 });
  builder.addMany(keysOf(n), vectors);
  builder.buildAnn();
  const buildS = (Date.now() - t0) / 1000;
  builder.saveAnn(annFile);
  fs.writeFileSync(stamp, JSON.stringify({ tag, buildS }));
  return { dir, annFile, build: `index built in ${buildS.toFixed(0)} s` };
}

/** Runs this script again as a child (`--child <cfg>`, with --expose-gc) and resolves with the message it sends. */
export function runChild<T>(cfg: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const p = fork(process.argv[1], ['--child', JSON.stringify(cfg)], { execArgv: ['--expose-gc'], stdio: 'inherit' });
    let got: T | null = null;
    p.on('message', (m) => (got = m as T));
    p.on('error', reject);
    p.on('exit', (code) => (got ? resolve(got) : reject(new Error(`benchmark child exited with ${code}`))));
  });
}

/** Collects garbage (when run with --expose-gc) and lets the freed buffers go back to the OS. */
export async function settle(): Promise<void> {
  const gc = (global as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** The p-th percentile (0–1) of `a`. */
export const pct = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))];

/** Runs `child` when this process was started by runChild, else `main`; exits with 1 on an error. */
export function start(main: () => Promise<void>, child: () => Promise<void>): void {
  (argStr('child') ? child() : main()).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
