import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { z } from 'zod';

/** Links to face snapshots (snapshots/<camera>/<sightingId>.jpg in the faces bucket) for people to open. */
export interface SnapshotLinks {
  /** A URL that reads the object without credentials until it expires. */
  urlFor(key: string): Promise<string>;
}

/** A day: long enough to open an alert the next morning, short for a link to a biometric image. */
export const SNAPSHOT_LINK_SECONDS = 24 * 60 * 60;

/** Presigned S3 GetObject URLs: the function's own role must be allowed s3:GetObject on snapshots/*. */
export class S3SnapshotLinks implements SnapshotLinks {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly expiresInSeconds = SNAPSHOT_LINK_SECONDS,
  ) {}

  urlFor(key: string): Promise<string> {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: this.expiresInSeconds });
  }
}

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Environment of the functions that link snapshots (consumer, GET /sightings): on only with a bucket. */
export const snapshotLinksEnv = {
  /** True when the processor keeps snapshots (the self mode); the managed processor keeps none. */
  PROCESSOR_SNAPSHOTS: bool.default(false),
  FACES_BUCKET: z.string().trim().min(1).optional(),
};
