/**
 * From the engine's raw face (pixels) to Rekognition's FaceDetail (ratios), and the quality filter
 * (UnindexedFaces reasons). Pure functions, unit-tested.
 */
import type { BoundingBox, Emotion, FaceDetail, Landmark, LandmarkType, Reason } from '@aws-sdk/client-rekognition';
import type { Point, RawFace } from './engine/types';
import type { Attribute, QualityFilterLevel } from './validate';

const r4 = (v: number) => Math.round(v * 1e6) / 1e6;

export function toBoundingBox(face: RawFace, width: number, height: number): BoundingBox {
  return {
    Width: r4(face.box.width / width),
    Height: r4(face.box.height / height),
    Left: r4(face.box.x / width),
    Top: r4(face.box.y / height),
  };
}

const avg = (...pts: Point[]): Point => [pts.reduce((s, p) => s + p[0], 0) / pts.length, pts.reduce((s, p) => s + p[1], 0) / pts.length];

/**
 * Rekognition's landmark names from dlib's 68 points. Rekognition names sides as seen in the image
 * (eyeLeft has the smaller X on a frontal face), as do the 68-point indices below.
 */
export function landmarksFromFace(face: RawFace, all: boolean): { type: LandmarkType; point: Point }[] {
  const p = face.landmarks68;
  const eyeL = avg(p[36], p[37], p[38], p[39], p[40], p[41]);
  const eyeR = avg(p[42], p[43], p[44], p[45], p[46], p[47]);
  const base: { type: LandmarkType; point: Point }[] = [
    { type: 'eyeLeft', point: eyeL },
    { type: 'eyeRight', point: eyeR },
    { type: 'mouthLeft', point: p[48] },
    { type: 'mouthRight', point: p[54] },
    { type: 'nose', point: p[30] },
  ];
  if (!all) return base;
  const pupils = face.pupils ?? [eyeL, eyeR];
  return base.concat([
    { type: 'leftEyeBrowLeft', point: p[17] },
    { type: 'leftEyeBrowUp', point: p[19] },
    { type: 'leftEyeBrowRight', point: p[21] },
    { type: 'rightEyeBrowLeft', point: p[22] },
    { type: 'rightEyeBrowUp', point: p[24] },
    { type: 'rightEyeBrowRight', point: p[26] },
    { type: 'leftEyeLeft', point: p[36] },
    { type: 'leftEyeRight', point: p[39] },
    { type: 'leftEyeUp', point: avg(p[37], p[38]) },
    { type: 'leftEyeDown', point: avg(p[40], p[41]) },
    { type: 'rightEyeLeft', point: p[42] },
    { type: 'rightEyeRight', point: p[45] },
    { type: 'rightEyeUp', point: avg(p[43], p[44]) },
    { type: 'rightEyeDown', point: avg(p[46], p[47]) },
    { type: 'noseLeft', point: p[31] },
    { type: 'noseRight', point: p[35] },
    { type: 'mouthUp', point: p[51] },
    { type: 'mouthDown', point: p[57] },
    { type: 'leftPupil', point: pupils[0] },
    { type: 'rightPupil', point: pupils[1] },
    { type: 'upperJawlineLeft', point: p[1] },
    { type: 'midJawlineLeft', point: p[4] },
    { type: 'chinBottom', point: p[8] },
    { type: 'midJawlineRight', point: p[12] },
    { type: 'upperJawlineRight', point: p[15] },
  ]);
}

const clamp = (v: number, lo = 0, hi = 1) => Math.min(hi, Math.max(lo, v));
const conf = (distanceFromBoundary: number, scale: number) => r4(50 + 50 * clamp(Math.abs(distanceFromBoundary) * scale));

const EMOTIONS: Record<string, Emotion['Type']> = {
  happy: 'HAPPY',
  sad: 'SAD',
  angry: 'ANGRY',
  disgust: 'DISGUSTED',
  fear: 'FEAR',
  surprise: 'SURPRISED',
  neutral: 'CALM',
};

export interface DetailOptions {
  attributes: readonly Attribute[];
}

/** Which optional attribute groups a request asked for (DEFAULT fields are always there). */
export function wants(attributes: readonly Attribute[], a: Attribute): boolean {
  return attributes.includes('ALL') || attributes.includes(a);
}

export function needsEngineAttributes(attributes: readonly Attribute[]): boolean {
  return ['ALL', 'AGE_RANGE', 'GENDER', 'EMOTIONS', 'SMILE', 'EYE_DIRECTION'].some((a) => attributes.includes(a as Attribute));
}

export function toFaceDetail(face: RawFace, width: number, height: number, opts: DetailOptions): FaceDetail {
  const all = opts.attributes.includes('ALL');
  const ratio = (pt: Point): Landmark => ({ X: r4(pt[0] / width), Y: r4(pt[1] / height) });
  const detail: FaceDetail = {
    BoundingBox: toBoundingBox(face, width, height),
  };
  const a = face.attributes;
  if (wants(opts.attributes, 'AGE_RANGE') && a?.age != null) {
    detail.AgeRange = { Low: Math.max(0, Math.floor(a.age * 0.85 - 2)), High: Math.ceil(a.age * 1.15 + 2) };
  }
  const happy = a?.emotions.find((e) => e.emotion === 'happy')?.score ?? 0;
  if (wants(opts.attributes, 'SMILE') && a) {
    const score = 0.7 * happy + 0.3 * clamp((face.mouthWidthRatio - 0.85) / 0.3);
    detail.Smile = { Value: score >= 0.5, Confidence: conf(score - 0.5, 2) };
  }
  if (wants(opts.attributes, 'GENDER') && a?.gender) {
    detail.Gender = { Value: a.gender === 'male' ? 'Male' : 'Female', Confidence: r4(50 + 50 * clamp(a.genderScore)) };
  }
  if (wants(opts.attributes, 'EYES_OPEN')) {
    detail.EyesOpen = { Value: face.eyeOpenness > 0.2, Confidence: conf(face.eyeOpenness - 0.2, 5) };
  }
  if (wants(opts.attributes, 'MOUTH_OPEN')) {
    detail.MouthOpen = { Value: face.mouthOpenness > 0.1, Confidence: conf(face.mouthOpenness - 0.1, 10) };
  }
  if (wants(opts.attributes, 'EMOTIONS') && a) {
    const scores = new Map<Emotion['Type'], number>();
    for (const t of ['HAPPY', 'SAD', 'ANGRY', 'CONFUSED', 'DISGUSTED', 'SURPRISED', 'CALM', 'FEAR'] as const) scores.set(t, 0);
    for (const e of a.emotions) {
      const t = EMOTIONS[e.emotion];
      if (t) scores.set(t, (scores.get(t) ?? 0) + e.score);
    }
    detail.Emotions = [...scores].map(([Type, s]) => ({ Type, Confidence: r4(100 * clamp(s)) })).sort((x, y) => (y.Confidence ?? 0) - (x.Confidence ?? 0));
  }
  if (wants(opts.attributes, 'EYE_DIRECTION') && a) {
    const g = a.gaze ?? { bearing: 0, strength: 0 };
    detail.EyeDirection = {
      Yaw: r4(g.strength * Math.cos(g.bearing) * 45),
      Pitch: r4(-g.strength * Math.sin(g.bearing) * 45),
      Confidence: face.pupils ? 90 : 50,
    };
  }
  if (wants(opts.attributes, 'FACE_OCCLUDED')) {
    detail.FaceOccluded = { Value: face.disagreement > 0.3, Confidence: conf(face.disagreement - 0.3, 4) };
  }
  detail.Landmarks = landmarksFromFace(face, all).map((l) => ({ Type: l.type, ...ratio(l.point) }));
  detail.Pose = { Roll: r4(face.pose.roll), Yaw: r4(face.pose.yaw), Pitch: r4(face.pose.pitch) };
  detail.Quality = { Brightness: r4(face.brightness), Sharpness: r4(face.sharpness) };
  detail.Confidence = r4(face.confidence);
  return detail;
}

/** Quality bars per QualityFilter level (AUTO = LOW). NONE filters nothing. */
export const QUALITY_BARS = {
  LOW: { confidence: 50, brightnessMin: 5, brightnessMax: 99, sharpness: 3, pose: 75, minSidePx: 20, composite: 0.08 },
  MEDIUM: { confidence: 70, brightnessMin: 12, brightnessMax: 96, sharpness: 8, pose: 60, minSidePx: 32, composite: 0.15 },
  HIGH: { confidence: 90, brightnessMin: 20, brightnessMax: 92, sharpness: 15, pose: 45, minSidePx: 48, composite: 0.25 },
} as const;

/** A single 0..1 quality score: sharpness and exposure combined, lowered by pose. */
export function compositeQuality(face: RawFace): number {
  const sharp = Math.sqrt(clamp(face.sharpness / 100));
  const exposure = clamp(1 - Math.abs(face.brightness - 50) / 55);
  const pose = clamp(1 - Math.max(Math.abs(face.pose.yaw), Math.abs(face.pose.pitch)) / 90);
  return sharp * exposure * pose;
}

/** Reasons a face fails the quality bar of `level` (empty = passes). `scale` = original px per analysed px. */
export function qualityReasons(face: RawFace, level: QualityFilterLevel, scale = 1): Reason[] {
  if (level === 'NONE') return [];
  const bar = QUALITY_BARS[level === 'AUTO' ? 'LOW' : level];
  const reasons: Reason[] = [];
  if (Math.max(Math.abs(face.pose.yaw), Math.abs(face.pose.pitch)) > bar.pose) reasons.push('EXTREME_POSE');
  if (face.brightness < bar.brightnessMin || face.brightness > bar.brightnessMax) reasons.push('LOW_BRIGHTNESS');
  if (face.sharpness < bar.sharpness) reasons.push('LOW_SHARPNESS');
  if (face.confidence < bar.confidence) reasons.push('LOW_CONFIDENCE');
  if (Math.min(face.box.width, face.box.height) * scale < bar.minSidePx) reasons.push('SMALL_BOUNDING_BOX');
  if (compositeQuality(face) < bar.composite) reasons.push('LOW_FACE_QUALITY');
  return reasons;
}
