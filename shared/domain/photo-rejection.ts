import { MAX_PHOTO_BYTES } from './photo-key';

/**
 * Why a photo was not registered, worded for the person who uploaded it (GET /people/{personId} shows it).
 * The reason is a stable code; the message says what to do about it.
 */
export type RejectionReason =
  | 'NO_FACE'
  | 'FACE_REFUSED'
  | 'NOT_JPEG_OR_PNG'
  | 'TOO_LARGE'
  | 'INVALID_IMAGE'
  | 'OUTSIDE_LAYOUT';

export interface Rejection {
  reason: RejectionReason;
  message: string;
}

/** Rekognition's UnindexedFaces reasons, in words. */
const FACE_REASONS: Record<string, string> = {
  EXCEEDS_MAX_FACES: 'more faces than allowed in one photo',
  EXTREME_POSE: 'the head is turned too far from the camera',
  LOW_BRIGHTNESS: 'the face is too dark',
  LOW_SHARPNESS: 'the face is blurry',
  LOW_CONFIDENCE: 'it is not clearly a face',
  SMALL_BOUNDING_BOX: 'the face is too small in the picture',
  LOW_FACE_QUALITY: 'the face quality is too low',
};

export const rejections = {
  noFace: (): Rejection => ({
    reason: 'NO_FACE',
    message: 'No face was found in this photo: upload a well-lit photo where the face is clearly visible.',
  }),
  faceRefused: (reasons: readonly string[]): Rejection => {
    const unique = [...new Set(reasons)];
    const words = unique.map((r) => `${FACE_REASONS[r] ?? r.toLowerCase().replace(/_/g, ' ')} (${r})`);
    return {
      reason: 'FACE_REFUSED',
      message: `The face in this photo was refused: ${words.join('; ') || 'no reason given'}. Upload a sharper, brighter, front-facing photo.`,
    };
  },
  notJpegOrPng: (fileName: string): Rejection => ({
    reason: 'NOT_JPEG_OR_PNG',
    message: `"${fileName}" is not a JPEG or PNG image: only .jpg, .jpeg and .png photos can be registered.`,
  }),
  tooLarge: (bytes?: number): Rejection => ({
    reason: 'TOO_LARGE',
    message: `The photo is ${bytes === undefined ? 'too large' : `${(bytes / 1024 / 1024).toFixed(1)} MB`}: at most ${MAX_PHOTO_BYTES / 1024 / 1024} MB is accepted. Upload a smaller version.`,
  }),
  truncated: (fileName: string): Rejection => ({
    reason: 'INVALID_IMAGE',
    message: `"${fileName}" is truncated: its data ends before the end of the image (an interrupted upload or copy). Upload the whole file again.`,
  }),
  tooManyPixels: (detail: string): Rejection => ({
    reason: 'TOO_LARGE',
    message: `The photo is too large: ${detail.replace(/^Image size is too large:\s*/, '').replace(/\.$/, '')}. Upload a smaller version (a few megapixels are plenty for a face).`,
  }),
  invalidImage: (detail: string): Rejection => ({
    reason: 'INVALID_IMAGE',
    message: `The image could not be used (${detail}): upload a JPEG or PNG of at least 80 pixels a side.`,
  }),
  outsideLayout: (key: string): Rejection => ({
    reason: 'OUTSIDE_LAYOUT',
    message: `"${key}" is not in a person's folder: put photos at faces/<person name>/<photo>.jpg (exactly one folder level).`,
  }),
};
