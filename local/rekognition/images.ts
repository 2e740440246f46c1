/** Image input (Bytes or S3Object) with AWS's checks: format, size, dimensions. */
import type { GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import sharp, { type Metadata } from 'sharp';
import { imageTooLarge, invalidImageFormat, invalidParameter, invalidS3Object } from './errors';

export const MAX_BYTES = 5 * 1024 * 1024;
export const MAX_S3_BYTES = 15 * 1024 * 1024;
export const MIN_SIDE = 80;
/**
 * The twin refuses images over this many pixels before decoding them (a small PNG can decompress to 20,000 ×
 * 20,000 px, 1.6 GB of RGBA): AWS bounds the bytes (5 MB inline, 15 MB from S3) and answers
 * ImageTooLargeException; locally the decoded size is bounded too, so memory stays bounded.
 */
export const MAX_PIXELS = 50_000_000;

/** Whether the image's data ends where its format says it ends (JPEG: an EOI marker; PNG: the IEND chunk). */
export function isComplete(b: Uint8Array, format: 'jpeg' | 'png'): boolean {
  // Some cameras pad after the end: look at the last 1 KB.
  const tail = Buffer.from(b.subarray(Math.max(0, b.length - 1024)));
  return format === 'jpeg' ? tail.includes(Buffer.from([0xff, 0xd9])) : tail.includes(Buffer.from('IEND', 'latin1'));
}

export function sniffFormat(b: Uint8Array): 'jpeg' | 'png' | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a)
    return 'png';
  return null;
}

export interface LoadedImage {
  bytes: Buffer;
  format: 'jpeg' | 'png';
  /** Size after EXIF auto-orientation. */
  width: number;
  height: number;
}

/** Checks format and dimensions of raw image bytes. */
export async function checkImage(bytes: Buffer): Promise<LoadedImage> {
  const format = sniffFormat(bytes);
  if (!format) throw invalidImageFormat();
  let meta: Metadata;
  try {
    // metadata() reads the header only; the pixel limit is checked below, with the image's size in the message.
    meta = await sharp(bytes, { failOn: 'none', limitInputPixels: false }).metadata();
  } catch {
    throw invalidImageFormat();
  }
  if (!meta.width || !meta.height) throw invalidImageFormat();
  if (meta.width * meta.height > MAX_PIXELS) {
    throw imageTooLarge(`Image size is too large: ${meta.width}×${meta.height} px exceeds ${MAX_PIXELS / 1_000_000} megapixels.`);
  }
  if (!isComplete(bytes, format)) throw invalidImageFormat(`Request has invalid image format: the ${format === 'jpeg' ? 'JPEG' : 'PNG'} is truncated (its data ends before the end of the image).`);
  const swap = (meta.orientation ?? 1) >= 5;
  const width = swap ? meta.height : meta.width;
  const height = swap ? meta.width : meta.height;
  if (width < MIN_SIDE || height < MIN_SIDE) throw invalidParameter('Request has invalid parameters');
  return { bytes, format, width, height };
}

export async function loadImage(image: unknown, s3: () => S3Client | null): Promise<LoadedImage> {
  if (!image || typeof image !== 'object') throw invalidParameter('Request has invalid parameters');
  const { Bytes, S3Object } = image as { Bytes?: unknown; S3Object?: unknown };
  if ((Bytes === undefined) === (S3Object === undefined)) throw invalidParameter('Requested image should either contain bytes or s3 object.');
  if (Bytes !== undefined) {
    if (typeof Bytes !== 'string' || !Bytes.length) throw invalidParameter('Request has invalid parameters');
    // Base64 size bound before decoding: 4 chars per 3 bytes.
    if (Bytes.length > Math.ceil((MAX_BYTES * 4) / 3) + 4) throw imageTooLarge();
    const bytes = Buffer.from(Bytes, 'base64');
    if (bytes.length > MAX_BYTES) throw imageTooLarge();
    if (!bytes.length) throw invalidImageFormat();
    return checkImage(bytes);
  }
  const o = S3Object as { Bucket?: unknown; Name?: unknown; Version?: unknown };
  if (!o || typeof o !== 'object' || typeof o.Bucket !== 'string' || typeof o.Name !== 'string' || !o.Bucket || !o.Name)
    throw invalidS3Object();
  const client = s3();
  if (!client) throw invalidS3Object('Unable to get object metadata from S3: no S3 endpoint is configured.');
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  let out: GetObjectCommandOutput;
  try {
    out = await client.send(new GetObjectCommand({ Bucket: o.Bucket, Key: o.Name, VersionId: typeof o.Version === 'string' ? o.Version : undefined }));
  } catch {
    throw invalidS3Object();
  }
  if ((out.ContentLength ?? 0) > MAX_S3_BYTES) {
    (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
    throw imageTooLarge();
  }
  const bytes = Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  if (bytes.length > MAX_S3_BYTES) throw imageTooLarge();
  return checkImage(bytes);
}
