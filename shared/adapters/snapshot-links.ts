import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { SnapshotLinks } from '../use-cases/record-sightings';

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
