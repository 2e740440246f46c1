/**
 * Similarity (0..100, Rekognition's scale) from the Euclidean distance between two 128-d face-api
 * descriptors. A logistic curve calibrated on dlib's bald_guys.jpg (4 people × 6 photos): same-person
 * distances 0.26–0.58 (median 0.44), different people 0.55–1.0 (median 0.74); face-api's own boundary is 0.6.
 *
 *   similarity(d) = 100 / (1 + exp((d − D0) / S)),  D0 = 0.6725, S = 0.0586
 *
 * so d = 0.50 → 95, 0.568 → 85.5, 0.591 → 80 (AWS's default threshold), 0.60 → 77.5, 0.70 → 38, 0.80 → 10.
 */
export const D0 = 0.6725;
export const S = 0.0586;

export function similarityFromDistance(d: number): number {
  const s = 100 / (1 + Math.exp((d - D0) / S));
  return Math.min(100, Math.max(0, s));
}

/** Inverse: the largest distance whose similarity is ≥ `similarity`. */
export function distanceForSimilarity(similarity: number): number {
  if (similarity >= 100) return 0;
  if (similarity <= 0) return Infinity;
  return D0 + S * Math.log(100 / similarity - 1);
}

export function euclidean(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return Math.sqrt(s);
}
