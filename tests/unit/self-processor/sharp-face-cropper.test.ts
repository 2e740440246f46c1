import sharp from 'sharp';
import { SharpFaceCropper } from '../../../shared/adapters/sharp-face-cropper';
import { DEFAULT_TRACKER_SETTINGS, appearanceDistance } from '../../../shared/domain/face-tracker';
import { ANNA, MARCO, cropFace, sourcePath } from '../../../local/demo/cast';

/** A 640×480 frame with one face photo pasted at (left, top), 200 px wide. */
async function frameWith(face: Buffer, left: number, top: number): Promise<Buffer> {
  const tile = await sharp(face).resize({ width: 200, height: 200, fit: 'fill' }).toBuffer();
  return sharp({ create: { width: 640, height: 480, channels: 3, background: '#556070' } }).composite([{ input: tile, left, top }]).jpeg({ quality: 85 }).toBuffer();
}

describe('SharpFaceCropper.signature', () => {
  it('tells a face that moved a little from another person in the same place', async () => {
    // Given Marco's face in a frame, the same face 6 px further in the next frame, and Anna where Marco was
    const marco = await cropFace(sourcePath(MARCO.onCamera[0].source), MARCO.onCamera[0].box, { margin: 0.2 });
    const anna = await cropFace(sourcePath(ANNA.onCamera[0].source), ANNA.onCamera[0].box, { margin: 0.2 });
    const box = { Left: 220 / 640, Top: 140 / 480, Width: 200 / 640, Height: 200 / 480 };
    const cropper = new SharpFaceCropper();

    const first = await cropper.signature(await frameWith(marco, 220, 140), box);
    const moved = await cropper.signature(await frameWith(marco, 226, 142), box);
    const other = await cropper.signature(await frameWith(anna, 220, 140), box);

    // Then the moved face stays under the tracker's bound and the other person is over it
    expect(first).toHaveLength(144);
    expect(appearanceDistance(first, moved)).toBeLessThan(DEFAULT_TRACKER_SETTINGS.maxAppearanceChange);
    expect(appearanceDistance(first, other)).toBeGreaterThan(DEFAULT_TRACKER_SETTINGS.maxAppearanceChange);
  });
});
