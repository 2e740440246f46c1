/** Image quality measures on a grey face crop (pure functions, unit-tested): the self processor's detector and the local Rekognition both use them. */

export function meanOf(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return values.length ? s / values.length : 0;
}

/** Variance of the 4-neighbour Laplacian over the interior of a w×h grey image (0..255 values). */
export function laplacianVariance(grey: ArrayLike<number>, w: number, h: number): number {
  let n = 0;
  let s = 0;
  let s2 = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const v = grey[i - 1] + grey[i + 1] + grey[i - w] + grey[i + w] - 4 * grey[i];
      s += v;
      s2 += v * v;
      n++;
    }
  }
  if (!n) return 0;
  const m = s / n;
  return Math.max(0, s2 / n - m * m);
}

/**
 * Maps the Laplacian variance of a 112×112 face crop to Rekognition's 0..100 Sharpness.
 * Scale chosen on dlib's photos: a sharp studio portrait ~80-95, a small upscaled face ~20-50, blur < 10.
 */
export const SHARPNESS_SCALE = 150;
export function sharpnessFromVariance(variance: number): number {
  return 100 * (1 - Math.exp(-variance / SHARPNESS_SCALE));
}
