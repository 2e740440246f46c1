/** Deterministic clustered 128-d vectors for vector-index tests: `groupSize` photos around each random centre. */
import { DIM } from '../../local/rekognition/vector-index';

export function clusteredVectors(n: number, { seed, groupSize, centreSpread, photoSpread }: { seed: number; groupSize: number; centreSpread: number; photoSpread: number }): Float32Array {
  let a = seed;
  const rnd = () => ((a = (a * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const g = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  const out = new Float32Array(n * DIM);
  const centre = new Float32Array(DIM);
  for (let v = 0; v < n; v++) {
    if (v % groupSize === 0) for (let d = 0; d < DIM; d++) centre[d] = g() * centreSpread;
    for (let d = 0; d < DIM; d++) out[v * DIM + d] = centre[d] + g() * photoSpread;
  }
  return out;
}
