/** Pure logic of the local Rekognition: similarity calibration, validation, tokens, quality, FaceDetail, search index. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { distanceForSimilarity, euclidean, similarityFromDistance } from '../../../local/rekognition/similarity';
import { Checker, decodeToken, encodeToken, EXTERNAL_IMAGE_ID } from '../../../local/rekognition/validate';
import { RekognitionError } from '../../../local/rekognition/errors';
import { laplacianVariance, sharpnessFromVariance } from '../../../local/rekognition/engine/quality';
import { landmarksFromFace, qualityReasons, toFaceDetail } from '../../../local/rekognition/facedetail';
import type { RawFace } from '../../../local/rekognition/engine/types';
import { VectorIndex, DIM } from '../../../local/rekognition/vector-index';
import { Collection } from '../../../local/rekognition/store';
import { sniffFormat } from '../../../local/rekognition/images';
import { regionFromAuthorization } from '../../../local/rekognition/server';
import { imageIdFor } from '../../../local/rekognition/service';
import { clusteredVectors } from '../../support/vectors';

describe('similarity calibration', () => {
  test('monotone, AWS thresholds at the calibrated distances', () => {
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

describe('validation', () => {
  const errorOf = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      return e as RekognitionError;
    }
    throw new Error('no error');
  };
  test('constraint violations become one ValidationException with AWS wording', () => {
    const c = new Checker({ ExternalImageId: 'has space', MaxFaces: 0 });
    c.string('ExternalImageId', { pattern: EXTERNAL_IMAGE_ID, max: 255 });
    c.number('MaxFaces', { min: 1 });
    c.string('CollectionId', { required: true });
    const e = errorOf(() => c.done());
    expect(e.type).toBe('ValidationException');
    expect(e.message).toMatch(/^3 validation errors detected/);
    expect(e.message).toContain("Value 'has space' at 'externalImageId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.\\-:]+");
    expect(e.message).toContain("at 'maxFaces' failed to satisfy constraint: Member must have value greater than or equal to 1");
    expect(e.toBody()).toMatchObject({ __type: 'ValidationException' });
    const ok = new Checker({ ExternalImageId: 'Jhb:cam-1_x.y' });
    ok.string('ExternalImageId', { pattern: EXTERNAL_IMAGE_ID });
    expect(() => ok.done()).not.toThrow();
  });
  test('pagination tokens are bound to their listing', () => {
    const t = encodeToken('faces:a', 7);
    expect(decodeToken(t, 'faces:a')).toBe(7);
    expect(decodeToken(t, 'faces:b')).toBeNull();
    expect(decodeToken('%%%', 'faces:a')).toBeNull();
  });
  test('image format sniffing, region from SigV4, deterministic ImageId', () => {
    expect(sniffFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(sniffFormat(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe('png');
    expect(sniffFormat(Buffer.from('GIF89a'))).toBeNull();
    expect(regionFromAuthorization('AWS4-HMAC-SHA256 Credential=AK/20240101/eu-west-1/rekognition/aws4_request, SignedHeaders=x', 'us-east-1')).toBe('eu-west-1');
    expect(regionFromAuthorization(undefined, 'us-east-1')).toBe('us-east-1');
    expect(imageIdFor(Buffer.from('a'))).toBe(imageIdFor(Buffer.from('a')));
    expect(imageIdFor(Buffer.from('a'))).not.toBe(imageIdFor(Buffer.from('b')));
    expect(imageIdFor(Buffer.from('a'))).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('quality measures', () => {
  test('Laplacian variance: flat image 0, checkerboard high, blur lowers it', () => {
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
  test('ratios, default and ALL landmarks, attributes only when asked', () => {
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
  test('reasons per level', () => {
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

const clustered = (n: number, seed = 1) => clusteredVectors(n, { seed, groupSize: 5, centreSpread: 0.066, photoSpread: 0.025 });

describe('vector index', () => {
  test('exact search, removal, and ANN recall@1 vs exact', () => {
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

  test('a collection persists faces and its ANN index across reloads', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rek-col-'));
    try {
      const meta = { CollectionId: 'c', CollectionArn: 'arn', CreationTimestamp: 1, FaceModelVersion: '7.0' };
      const c = Collection.create(meta, dir, { annThreshold: 50 });
      const data = clustered(60, 3);
      const ids: string[] = [];
      for (let i = 0; i < 60; i++) {
        const f = c.addFace(
          { FaceId: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, ImageId: 'img', BoundingBox: {}, Confidence: 99, IndexFacesModelVersion: '7.0' },
          data.subarray(i * DIM, i * DIM + DIM),
        );
        ids.push(f.FaceId);
      }
      c.deleteFaces([ids[0], ids[1]]);
      c.close();
      expect(fs.existsSync(path.join(dir, 'index.usearch'))).toBe(true);
      const again = Collection.load(dir, { annThreshold: 50 });
      expect(again.size).toBe(58);
      expect(again.index.usesAnn).toBe(true);
      const hit = again.index.search(data.subarray(5 * DIM, 6 * DIM), 1)[0];
      expect(again.faceByKey(hit.key)?.FaceId).toBe(ids[5]);
      const next = again.addFace({ FaceId: 'x', ImageId: 'i', BoundingBox: {}, Confidence: 1, IndexFacesModelVersion: '7.0' }, data.subarray(0, DIM));
      expect(next.key).toBe(61);
      again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
