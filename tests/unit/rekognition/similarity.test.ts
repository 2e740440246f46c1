/** Similarity of the local Rekognition: face-api's Euclidean distance mapped onto Rekognition's 0-100 scale. */
import { distanceForSimilarity, euclidean, similarityFromDistance } from '../../../local/rekognition/similarity';

describe('similarity calibration', () => {
  test('given face-api distances, when turned into Similarity, then it falls monotonically and puts AWS thresholds at the calibrated distances', () => {
    let prev = 101;
    for (let d = 0; d <= 1.4; d += 0.01) {
      const s = similarityFromDistance(d);
      expect(s).toBeLessThanOrEqual(prev);
      expect(s).toBeGreaterThanOrEqual(0);
      prev = s;
    }
    expect(similarityFromDistance(0.4)).toBeGreaterThan(98); // typical same person
    expect(similarityFromDistance(0.6)).toBeGreaterThan(70); // face-api's boundary sits below 80
    expect(similarityFromDistance(0.6)).toBeLessThan(80);
    expect(similarityFromDistance(0.75)).toBeLessThan(25); // typical different people
    for (const s of [50, 80, 85.5, 99]) expect(similarityFromDistance(distanceForSimilarity(s))).toBeCloseTo(s, 6);
    expect(euclidean([0, 3], [4, 0])).toBe(5);
  });
});
