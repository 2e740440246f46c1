/** FaceDetail of the local Rekognition: the engine's face in Rekognition's shape, and IndexFaces' quality filter. */
import { landmarksFromFace, qualityReasons, toFaceDetail } from '../../../local/rekognition/facedetail';
import type { RawFace } from '../../../local/rekognition/engine/types';

function rawFace(over: Partial<RawFace> = {}): RawFace {
  // 68 points of a frontal face in a 200×200 box at (100,100).
  const p: [number, number][] = Array.from({ length: 68 }, (_, i) => [100 + (i % 17) * 12, 100 + Math.floor(i / 17) * 40]);
  p[36] = [150, 170]; p[39] = [180, 170]; p[42] = [220, 170]; p[45] = [250, 170];
  p[37] = [160, 165]; p[38] = [170, 165]; p[40] = [170, 175]; p[41] = [160, 175];
  p[43] = [230, 165]; p[44] = [240, 165]; p[46] = [240, 175]; p[47] = [230, 175];
  p[48] = [170, 250]; p[54] = [230, 250]; p[30] = [200, 210];
  return {
    box: { x: 100, y: 100, width: 200, height: 200 },
    boxScore: 0.9,
    disagreement: 0.1,
    confidence: 99.99,
    landmarks68: p,
    pupils: null,
    eyeOpenness: 0.35,
    mouthOpenness: 0.02,
    mouthWidthRatio: 0.9,
    pose: { pitch: 0, roll: 0, yaw: 0 },
    brightness: 50,
    sharpness: 80,
    laplacianVariance: 200,
    descriptor: new Array(128).fill(0),
    attributes: { age: 30, gender: 'female', genderScore: 0.9, emotions: [{ emotion: 'happy', score: 0.9 }], gaze: null },
    ...over,
  };
}

describe('FaceDetail and the quality filter', () => {
  test('given an engine face, when turned into a FaceDetail, then the box and landmarks are image ratios and attributes appear only when asked', () => {
    const d = toFaceDetail(rawFace(), 400, 400, { attributes: ['DEFAULT'] });
    expect(d.BoundingBox).toEqual({ Width: 0.5, Height: 0.5, Left: 0.25, Top: 0.25 });
    expect(d.Landmarks!.map((l) => l.Type)).toEqual(['eyeLeft', 'eyeRight', 'mouthLeft', 'mouthRight', 'nose']);
    expect(d.Landmarks![0]).toMatchObject({ X: 0.4125, Y: 0.425 });
    expect(d.AgeRange).toBeUndefined();
    const all = toFaceDetail(rawFace(), 400, 400, { attributes: ['ALL'] });
    expect(new Set(all.Landmarks!.map((l) => l.Type)).size).toBe(30);
    expect(landmarksFromFace(rawFace(), true)).toHaveLength(30);
    expect(all.Gender).toEqual({ Value: 'Female', Confidence: 95 });
    expect(all.Emotions![0].Type).toBe('HAPPY');
    expect(all.Smile!.Value).toBe(true);
    expect(all.EyesOpen!.Value).toBe(true);
    expect(all.MouthOpen!.Value).toBe(false);
    expect(all.AgeRange!.Low!).toBeLessThan(30);
    expect(all.AgeRange!.High!).toBeGreaterThan(30);
  });
  test('given faces of poor quality, when filtered at each QualityFilter level, then the matching reasons are given', () => {
    expect(qualityReasons(rawFace(), 'AUTO')).toEqual([]);
    expect(qualityReasons(rawFace({ sharpness: 1 }), 'NONE')).toEqual([]);
    expect(qualityReasons(rawFace({ sharpness: 1 }), 'AUTO')).toContain('LOW_SHARPNESS');
    expect(qualityReasons(rawFace({ sharpness: 10 }), 'MEDIUM')).toEqual([]);
    expect(qualityReasons(rawFace({ sharpness: 10 }), 'HIGH')).toContain('LOW_SHARPNESS');
    expect(qualityReasons(rawFace({ brightness: 2 }), 'LOW')).toContain('LOW_BRIGHTNESS');
    expect(qualityReasons(rawFace({ pose: { pitch: 0, roll: 0, yaw: 80 } }), 'LOW')).toContain('EXTREME_POSE');
    expect(qualityReasons(rawFace({ confidence: 60 }), 'HIGH')).toContain('LOW_CONFIDENCE');
    expect(qualityReasons(rawFace({ box: { x: 0, y: 0, width: 30, height: 30 } }), 'MEDIUM')).toContain('SMALL_BOUNDING_BOX');
    expect(qualityReasons(rawFace({ box: { x: 0, y: 0, width: 30, height: 30 } }), 'MEDIUM', 2)).not.toContain('SMALL_BOUNDING_BOX');
  });
});
