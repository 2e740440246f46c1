/** Image quality measures of the local face engine: sharpness from the variance of the Laplacian. */
import { laplacianVariance, sharpnessFromVariance } from '../../../shared/face-detector/quality';

describe('quality measures', () => {
  test('given a flat, a checkerboard and a blurred checkerboard image, then the Laplacian variance is 0, high, and lower after the blur', () => {
    const w = 32;
    const flat = new Float32Array(w * w).fill(128);
    expect(laplacianVariance(flat, w, w)).toBe(0);
    const board = new Float32Array(w * w).map((_, i) => (((i % w) + Math.floor(i / w)) % 2 ? 255 : 0));
    const blurred = board.map((_, i) => {
      const x = i % w;
      const y = Math.floor(i / w);
      let s = 0;
      let n = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const xx = Math.min(w - 1, Math.max(0, x + dx));
          const yy = Math.min(w - 1, Math.max(0, y + dy));
          s += board[yy * w + xx];
          n++;
        }
      return s / n;
    });
    expect(laplacianVariance(board, w, w)).toBeGreaterThan(laplacianVariance(blurred, w, w));
    expect(sharpnessFromVariance(0)).toBe(0);
    expect(sharpnessFromVariance(1e6)).toBeCloseTo(100, 3);
  });
});
