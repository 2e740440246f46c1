/**
 * Bad photos are refused with a precise reason and bounded memory: a truncated JPEG, a PNG that would
 * decompress to 20,000 × 20,000 px, 0 bytes, a text file, and (at the use case) 16 MB.
 */
import zlib from 'node:zlib';
import sharp from 'sharp';
import { checkImage, MAX_PIXELS } from '../../../local/rekognition/images';

/** A valid PNG that declares width × height (its one IDAT holds a few rows only: a decompression-bomb header). */
function pngDeclaring(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(Buffer.alloc(width + 1))), chunk('IEND', Buffer.alloc(0))]);
}

describe('local Rekognition image checks', () => {
  let jpeg: Buffer;
  beforeAll(async () => {
    jpeg = await sharp({ create: { width: 200, height: 200, channels: 3, background: { r: 120, g: 90, b: 60 } } }).jpeg().toBuffer();
  });

  it('accepts a whole JPEG', async () => {
    await expect(checkImage(jpeg)).resolves.toMatchObject({ format: 'jpeg', width: 200, height: 200 });
  });

  it('refuses a truncated JPEG as truncated, not as "not a JPEG"', async () => {
    await expect(checkImage(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)))).rejects.toMatchObject({ name: 'InvalidImageFormatException', message: expect.stringMatching(/JPEG is truncated/) });
  });

  it('refuses a PNG declaring 20,000 × 20,000 px before decoding it, saying its size, with bounded memory', async () => {
    const bomb = pngDeclaring(20_000, 20_000);
    const before = process.memoryUsage().rss;
    await expect(checkImage(bomb)).rejects.toMatchObject({ name: 'ImageTooLargeException', message: `Image size is too large: 20000×20000 px exceeds ${MAX_PIXELS / 1_000_000} megapixels.` });
    // Decoding it would take 400 MB (greyscale) to 1.6 GB (RGBA); refusing it from its header takes next to nothing.
    expect(process.memoryUsage().rss - before).toBeLessThan(50 * 1024 * 1024);
  });

  it('refuses 0 bytes and a text file named .jpg as not an image', async () => {
    await expect(checkImage(Buffer.alloc(0))).rejects.toMatchObject({ name: 'InvalidImageFormatException' });
    await expect(checkImage(Buffer.from('just some text, named photo.jpg'))).rejects.toMatchObject({ name: 'InvalidImageFormatException' });
  });
});
