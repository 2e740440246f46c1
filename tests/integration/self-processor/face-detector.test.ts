/**
 * The self processor's own face detector on real photos (dlib's examples): what it finds, in DetectFaces' shape.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { HumanFaceDetector } from '../../../shared/face-detector/human-face-detector';
import { describeWithDlib } from '../../support/dlib';

jest.setTimeout(60_000);

const decimals = (v: number) => (String(v).split('.')[1] ?? '').length;

describeWithDlib('HumanFaceDetector', (dir) => {
  const detector = new HumanFaceDetector();

  it('given a group photo, when detected, then each face has a box in the frame, five landmarks, pose and quality, as DetectFaces gives them', async () => {
    // given bald_guys.jpg: a grid of 4 × 6 portraits
    const photo = fs.readFileSync(path.join(dir, 'bald_guys.jpg'));

    // when
    const faces = await detector.detectFaces(photo);

    // then
    expect(faces.length).toBeGreaterThanOrEqual(20);
    for (const face of faces) {
      const box = face.BoundingBox!;
      expect(box.Left! >= 0 && box.Top! >= 0 && box.Left! + box.Width! <= 1.0001 && box.Top! + box.Height! <= 1.0001).toBe(true);
      expect(face.Landmarks!.map((l) => l.Type)).toEqual(['eyeLeft', 'eyeRight', 'mouthLeft', 'mouthRight', 'nose']);
      const [eyeLeft, eyeRight, , , nose] = face.Landmarks!;
      expect(eyeLeft.X!).toBeLessThan(eyeRight.X!);
      // the nose lies inside the face box
      expect(nose.X! > box.Left! && nose.X! < box.Left! + box.Width! && nose.Y! > box.Top! && nose.Y! < box.Top! + box.Height!).toBe(true);
      expect(face.Confidence!).toBeGreaterThan(50);
      expect(face.Quality!.Sharpness!).toBeGreaterThanOrEqual(0);
      expect(face.Quality!.Sharpness!).toBeLessThanOrEqual(100);
      expect(Math.abs(face.Pose!.Yaw!)).toBeLessThan(60);
      // ratios to 6 decimals: the records and sightings stay small
      for (const v of [box.Left!, box.Width!, nose.X!]) expect(decimals(v)).toBeLessThanOrEqual(6);
    }
  });

  it('given a photo with no face, when detected, then nothing is found; and a blurred face scores a lower sharpness', async () => {
    const blank = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#5a6470' } }).jpeg().toBuffer();
    expect(await detector.detectFaces(blank)).toEqual([]);

    const photo = fs.readFileSync(path.join(dir, '2008_001322.jpg'));
    const [sharpFace] = await detector.detectFaces(photo);
    const [blurred] = await detector.detectFaces(await sharp(photo).blur(3).jpeg().toBuffer());
    expect(blurred.Quality!.Sharpness!).toBeLessThan(sharpFace.Quality!.Sharpness!);
  });
});
