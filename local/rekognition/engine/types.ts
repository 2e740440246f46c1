/** Data exchanged between the face engine (worker threads) and the service. Pixel coordinates. */

export type Point = [number, number];

export interface RawFaceAttributes {
  age: number | null;
  gender: 'male' | 'female' | null;
  genderScore: number;
  /** Human's emotion scores 0..1 by its label (angry, disgust, fear, happy, sad, surprise, neutral). */
  emotions: { emotion: string; score: number }[];
  /** Gaze from the iris model: bearing (radians), strength 0..1. */
  gaze: { bearing: number; strength: number } | null;
}

export interface RawFace {
  /** Face box reported to clients (tight face box, pixel units of the auto-oriented image). */
  box: { x: number; y: number; width: number; height: number };
  /** Detector box score (0..1) and cross-model landmark disagreement (fraction of inter-ocular distance). */
  boxScore: number;
  disagreement: number;
  /** 0..100 */
  confidence: number;
  /** face-api's 68 landmarks (dlib order). */
  landmarks68: Point[];
  /** Pupil centres (image-left first) from the iris model, when found. */
  pupils: [Point, Point] | null;
  /** Eye openness (lid gap / eye width, mean of both eyes) and mouth openness (lip gap / mouth width), from the mesh. */
  eyeOpenness: number;
  mouthOpenness: number;
  /** Mouth width / inter-ocular distance, from the mesh (a smile widens the mouth). */
  mouthWidthRatio: number;
  /** Degrees. */
  pose: { pitch: number; roll: number; yaw: number };
  /** 0..100 */
  brightness: number;
  sharpness: number;
  /** Raw variance of the Laplacian on a 112x112 grey face crop (for calibration). */
  laplacianVariance: number;
  /** 128-d face-api descriptor; empty when the request did not ask for this face's (AnalyzeOptions.descriptors). */
  descriptor: number[];
  attributes: RawFaceAttributes | null;
}

export interface AnalyzeOptions {
  /** Compute age/gender/emotion (slower). */
  attributes: boolean;
  /**
   * Which faces get the 128-d descriptor: 'all' (IndexFaces; the default), 'largest' (SearchFacesByImage
   * searches only the largest face), 'none' (DetectFaces). The recognition net is the costliest model per face.
   */
  descriptors?: 'all' | 'largest' | 'none';
}

export interface AnalyzeResult {
  width: number;
  height: number;
  faces: RawFace[];
  /** Faces dropped by the verifier (animal veto, landmark disagreement), for diagnostics. */
  rejected: number;
  ms: number;
  /** Milliseconds per stage: decode, detect (Human), verify (object veto), describe (face-api + quality). */
  timings: { decode: number; detect: number; verify: number; describe: number };
}
