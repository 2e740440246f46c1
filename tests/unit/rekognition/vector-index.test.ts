/** Vector index of the local Rekognition: exact float32 re-rank of the float16 graph's candidates, saved index reuse. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VectorIndex, DIM } from '../../../local/rekognition/vector-index';
import { clusteredVectors } from '../../support/vectors';

const people = (n: number, seed = 5) => clusteredVectors(n, { seed, groupSize: 4, centreSpread: 0.05, photoSpread: 0.03 });

/** Plain double-precision Euclidean distance, independent of the index's code. */
function dist(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

const keysOf = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const clustered = (n: number, seed = 1) => clusteredVectors(n, { seed, groupSize: 5, centreSpread: 0.066, photoSpread: 0.025 });

describe('vector index: ANN candidates re-ranked exactly', () => {
  test('given a large index, when searching, then hits carry exact Euclidean distances in ascending order within maxDistance', () => {
    const n = 3000;
    const data = people(n);
    const index = new VectorIndex({ annThreshold: 500 });
    index.addMany(keysOf(n), data);
    expect(index.usesAnn).toBe(true);
    for (let q = 0; q < 20; q++) {
      const query = Float32Array.from(data.subarray(q * 97 * DIM, q * 97 * DIM + DIM), (v, d) => v + (((q + d) % 3) - 1) * 0.01);
      const hits = index.search(query, 5);
      expect(hits).toHaveLength(5);
      for (let i = 0; i < hits.length; i++) {
        const stored = data.subarray((hits[i].key - 1) * DIM, hits[i].key * DIM);
        expect(hits[i].distance).toBeCloseTo(dist(stored, query), 5);
        if (i > 0) expect(hits[i].distance).toBeGreaterThanOrEqual(hits[i - 1].distance);
      }
      const limit = (hits[1].distance + hits[2].distance) / 2;
      expect(index.search(query, 5, limit).map((h) => h.key)).toEqual(hits.slice(0, 2).map((h) => h.key));
      expect(index.search(query, 5, Infinity, hits[0].key).map((h) => h.key)).not.toContain(hits[0].key);
    }
  });

  test('given faces added after a bulk load, when searching, then they are found through the ANN index', () => {
    const n = 2000;
    const data = people(n + 10, 9);
    const index = new VectorIndex({ annThreshold: 500 });
    index.addMany(keysOf(n), data.subarray(0, n * DIM));
    index.search(data.subarray(0, DIM), 1); // builds the graph
    for (let i = n; i < n + 10; i++) index.add(i + 1, data.subarray(i * DIM, i * DIM + DIM));
    for (let i = n; i < n + 10; i++) expect(index.search(data.subarray(i * DIM, i * DIM + DIM), 1)[0]).toEqual({ key: i + 1, distance: 0 });
  });
});

describe('vector index: float16 graph, float32 answers', () => {
  test('given two faces that float16 cannot tell apart, when searching, then the nearer by float32 comes first with its exact distance', () => {
    const n = 800;
    const data = people(n, 13);
    const index = new VectorIndex({ annThreshold: 500 });
    index.addMany(keysOf(n), data);
    // 0.5 + 1e-4 and 0.5 + 2e-4 both round to 0.5 in float16 (its step there is 2^-11 ≈ 4.9e-4).
    const base = Float32Array.from(data.subarray(0, DIM));
    base[0] = 0.5;
    const farther = Float32Array.from(base);
    farther[0] = 0.5 + 2e-4;
    const nearer = Float32Array.from(base);
    nearer[0] = 0.5 + 1e-4;
    index.add(n + 1, farther);
    index.add(n + 2, nearer);
    const hits = index.search(base, 2);
    expect(hits.map((h) => h.key)).toEqual([n + 2, n + 1]);
    expect(hits[0].distance).toBeCloseTo(dist(nearer, base), 9);
    expect(hits[1].distance).toBeCloseTo(dist(farther, base), 9);
    expect(hits[0].distance).toBeGreaterThan(0);
  });
});

describe('vector index: wider second pass in crowded neighbourhoods', () => {
  // Random 128-d vectors are the most crowded neighbourhood there is: every face is almost as far as the nearest.
  const crowd = (n: number, seed: number) => clusteredVectors(n, { seed, groupSize: 1, centreSpread: 1, photoSpread: 0 });
  // A sparse graph and a narrow beam (the first pass still looks at 64 candidates) miss about a third of the nearest faces.
  const sparse = { annThreshold: 0, connectivity: 6, expansionAdd: 16, expansionSearch: 8, expansionWide: 512 };

  test('given a crowded neighbourhood, when searching, then the search is widened and finds the exact nearest face', () => {
    const n = 5000;
    const queries = 100;
    const data = crowd(n, 21);
    const qs = crowd(queries, 22);
    const exact = new VectorIndex({ annThreshold: Infinity });
    exact.addMany(keysOf(n), data);
    const index = new VectorIndex(sparse);
    index.addMany(keysOf(n), data);
    let found = 0;
    for (let q = 0; q < queries; q++) {
      const query = qs.subarray(q * DIM, q * DIM + DIM);
      if (index.search(query, 1)[0].key === exact.search(query, 1)[0].key) found++;
    }
    expect(index.searchStats.searches).toBe(queries);
    expect(index.searchStats.widened).toBeGreaterThanOrEqual(0.7 * queries);
    expect(found).toBeGreaterThanOrEqual(0.8 * queries); // 88–96 of 100 over 12 builds; 65–71 without the second pass
  });

  test('given queries whose nearest face stands out, when searching, then one pass answers them', () => {
    const n = 3000;
    const data = people(n, 23);
    const index = new VectorIndex({ annThreshold: 0, expansionSearch: 8, expansionWide: 512 });
    index.addMany(keysOf(n), data);
    for (let q = 0; q < 20; q++) {
      const at = q * 149;
      const query = Float32Array.from(data.subarray(at * DIM, at * DIM + DIM), (v, d) => v + ((d % 5) - 2) * 1e-3);
      expect(index.search(query, 1)[0].key).toBe(at + 1);
    }
    expect(index.searchStats).toEqual({ searches: 20, widened: 0 });
  });
});

describe('vector index: saved ANN index', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vindex-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('given a saved index for the same faces and settings, when reloading, then it is loaded, not rebuilt, and answers the same', () => {
    const n = 2500;
    const data = people(n);
    const file = path.join(dir, 'index.usearch');
    const first = new VectorIndex({ annThreshold: 1000 });
    first.addMany(keysOf(n), data);
    expect(first.saveAnn(file)).toBe(true);

    const again = new VectorIndex({ annThreshold: 1000 });
    const build = jest.spyOn(again, 'buildAnn');
    again.addMany(keysOf(n), data);
    expect(again.loadAnn(file)).toBe(true);
    expect(build).not.toHaveBeenCalled();
    for (let q = 0; q < 10; q++) {
      const query = data.subarray(q * 211 * DIM, q * 211 * DIM + DIM);
      expect(again.search(query, 3)).toEqual(first.search(query, 3));
    }
  });

  test('given a saved index for these keys, when starting from it without the vectors, then searches read descriptors back and answer exactly', () => {
    const n = 2500;
    const data = people(n);
    const file = path.join(dir, 'index.usearch');
    const saved = new VectorIndex({ annThreshold: 1000 });
    saved.addMany(keysOf(n), data);
    saved.saveAnn(file);

    const reads: number[] = [];
    const readVector = (key: number) => (reads.push(key), data.slice((key - 1) * DIM, key * DIM));
    const index = new VectorIndex({ annThreshold: 1000, readVector });
    expect(index.loadAnnWithoutVectors(keysOf(n), file)).toBe(true);
    expect(index.size).toBe(n);
    expect(index.holdsVectors).toBe(false);
    expect(reads).toEqual([]);
    for (const q of [3, 1200, 2499]) {
      const hit = index.search(data.subarray(q * DIM, q * DIM + DIM), 1)[0];
      expect(hit).toEqual({ key: q + 1, distance: 0 });
    }
    expect(reads.length).toBeGreaterThan(0);
    expect(Array.from(index.vector(77) as Float32Array)).toEqual(Array.from(data.subarray(76 * DIM, 77 * DIM)));

    const otherKeys = new VectorIndex({ annThreshold: 1000, readVector });
    expect(otherKeys.loadAnnWithoutVectors(keysOf(n - 1), file)).toBe(false);
    expect(otherKeys.size).toBe(0);
    const noReader = new VectorIndex({ annThreshold: 1000 });
    expect(noReader.loadAnnWithoutVectors(keysOf(n), file)).toBe(false);
  });

  test('given a saved index built with other settings or for other faces, when reloading, then it is rebuilt', () => {
    const n = 1500;
    const data = people(n);
    const file = path.join(dir, 'index.usearch');
    const saved = new VectorIndex({ annThreshold: 1000, connectivity: 8 });
    saved.addMany(keysOf(n), data);
    saved.saveAnn(file);

    const otherSettings = new VectorIndex({ annThreshold: 1000 });
    otherSettings.addMany(keysOf(n), data);
    expect(otherSettings.loadAnn(file)).toBe(false);
    expect(otherSettings.search(data.subarray(7 * DIM, 8 * DIM), 1)[0].key).toBe(8);

    const otherFaces = new VectorIndex({ annThreshold: 1000, connectivity: 8 });
    otherFaces.addMany(keysOf(n - 1), data.subarray(0, (n - 1) * DIM));
    expect(otherFaces.loadAnn(file)).toBe(false);
    expect(otherFaces.search(data.subarray(9 * DIM, 10 * DIM), 1)[0].key).toBe(10);
  });
});

describe('vector index: keys', () => {
  test('given small, huge and negative keys, when adding and removing, then every key keeps its own vector', () => {
    const index = new VectorIndex({ annThreshold: Infinity });
    const keys = [1, 3, 5_000_000_000, -2, 7, 2 ** 40 + 1];
    const data = people(keys.length, 11);
    keys.forEach((k, i) => index.add(k, data.subarray(i * DIM, i * DIM + DIM)));
    expect(index.remove(1)).toBe(true);
    expect(index.remove(-2)).toBe(true);
    expect(index.remove(-2)).toBe(false);
    expect(index.size).toBe(4);
    keys.forEach((k, i) => {
      const gone = k === 1 || k === -2;
      expect(index.has(k)).toBe(!gone);
      if (!gone) {
        expect(Array.from(index.vector(k) as Float32Array)).toEqual(Array.from(data.subarray(i * DIM, i * DIM + DIM)));
        expect(index.exact(data.subarray(i * DIM, i * DIM + DIM), 1)[0]).toEqual({ key: k, distance: 0 });
      } else expect(index.vector(k)).toBeNull();
    });
  });
});

describe('vector index: exact and approximate search', () => {
  test('given the same faces in an exact and an ANN index, when searched, then ANN agrees on the nearest face for ≥ 99 % of queries, and a removed face is no longer found', () => {
    const n = 6000;
    const data = clustered(n);
    const keys = Array.from({ length: n }, (_, i) => i + 1);
    const exact = new VectorIndex({ annThreshold: Infinity });
    exact.addMany(keys, data);
    const ann = new VectorIndex({ annThreshold: 1000 });
    ann.addMany(keys, data);
    expect(ann.usesAnn).toBe(true);
    expect(exact.usesAnn).toBe(false);
    const q0 = data.subarray(0, DIM);
    expect(exact.exact(q0, 1)[0]).toEqual({ key: 1, distance: 0 });
    expect(exact.exact(q0, 3, Infinity, 1).map((h) => h.key)).not.toContain(1);
    let agree = 0;
    const queries = 200;
    for (let i = 0; i < queries; i++) {
      const q = Float32Array.from(data.subarray(i * 29 * DIM, i * 29 * DIM + DIM), (v, d) => v + ((i * 7 + d) % 5 - 2) * 0.002);
      if (ann.search(q, 1)[0].key === exact.exact(q, 1)[0].key) agree++;
    }
    expect(agree / queries).toBeGreaterThanOrEqual(0.99);
    expect(ann.remove(1)).toBe(true);
    expect(ann.search(q0, 1)[0].key).not.toBe(1);
    expect(ann.size).toBe(n - 1);
  });
});
