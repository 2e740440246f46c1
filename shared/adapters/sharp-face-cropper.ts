import sharp from 'sharp';
import { signatureOf, type Signature } from '../domain/face-tracker';
import type { BoundingBox } from '../domain/model';
import { THUMBNAIL_HEIGHT, THUMBNAIL_WIDTH, type FaceCrop, type FaceCropper, type FrameThumbnail } from '../use-cases/processor-ports';

/** Rekognition refuses images under 80 px a side; small faces are scaled up to this. */
const MIN_SIDE = 160;

interface Decoded {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/**
 * Face crops with sharp. Each frame is decoded once (its faces are cropped from the same pixels) and the
 * decode is forgotten with the frame.
 */
export class SharpFaceCropper implements FaceCropper {
  private readonly decoded = new WeakMap<Uint8Array, Promise<Decoded>>();

  constructor(private readonly jpegQuality = 90) {}

  async crop(frame: Uint8Array, region: BoundingBox): Promise<FaceCrop> {
    const { data, width, height, channels } = await this.decode(frame);
    const { left, top, w, h } = pixels(region, width, height);
    let pipeline = sharp(data, { raw: { width, height, channels } }).extract({ left, top, width: w, height: h });
    const scale = MIN_SIDE / Math.min(w, h);
    if (scale > 1) pipeline = pipeline.resize(Math.round(w * scale), Math.round(h * scale), { kernel: 'lanczos3' });
    const image = await pipeline.jpeg({ quality: this.jpegQuality }).toBuffer();
    return { image, region: { Left: left / width, Top: top / height, Width: w / width, Height: h / height } };
  }

  /** A 12×12 grey thumbnail of the face box (no padding: the background must not count), normalised. */
  async signature(frame: Uint8Array, region: BoundingBox): Promise<Signature> {
    const { data, width, height, channels } = await this.decode(frame);
    const { left, top, w, h } = pixels(region, width, height);
    const grey = await sharp(data, { raw: { width, height, channels } })
      .extract({ left, top, width: w, height: h })
      .greyscale()
      .resize(SIGNATURE_SIDE, SIGNATURE_SIDE, { fit: 'fill' })
      .raw()
      .toBuffer();
    return signatureOf(grey.subarray(0, SIGNATURE_SIDE * SIGNATURE_SIDE));
  }

  /** The frame's size and its grey thumbnail (box-averaged: sensor noise mostly cancels out). */
  async thumbnail(frame: Uint8Array): Promise<FrameThumbnail> {
    const { data, width, height, channels } = await this.decode(frame);
    const grey = await sharp(data, { raw: { width, height, channels } })
      .greyscale()
      .resize(THUMBNAIL_WIDTH, THUMBNAIL_HEIGHT, { fit: 'fill', kernel: 'cubic' })
      .raw()
      .toBuffer();
    return { width, height, grey: new Uint8Array(grey.buffer, grey.byteOffset, THUMBNAIL_WIDTH * THUMBNAIL_HEIGHT) };
  }

  private decode(frame: Uint8Array): Promise<Decoded> {
    let decoded = this.decoded.get(frame);
    if (!decoded) {
      decoded = sharp(frame)
        .rotate() // the frame as Rekognition sees it (EXIF orientation applied)
        .raw()
        .toBuffer({ resolveWithObject: true })
        .then(({ data, info }) => ({ data, width: info.width, height: info.height, channels: info.channels }));
      this.decoded.set(frame, decoded);
    }
    return decoded;
  }
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

const SIGNATURE_SIDE = 12;

/** A region (ratios) as whole pixels inside the frame, at least one pixel a side. */
function pixels(region: BoundingBox, width: number, height: number): { left: number; top: number; w: number; h: number } {
  const left = clamp(Math.floor(region.Left * width), 0, width - 1);
  const top = clamp(Math.floor(region.Top * height), 0, height - 1);
  const right = clamp(Math.ceil((region.Left + region.Width) * width), left + 1, width);
  const bottom = clamp(Math.ceil((region.Top + region.Height) * height), top + 1, height);
  return { left, top, w: right - left, h: bottom - top };
}
