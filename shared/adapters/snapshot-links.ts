import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { SnapshotLinks } from '../use-cases/record-sightings';

/** Presigned S3 GetObject URLs: the function's own role must be allowed s3:GetObject on snapshots/* (and kms:Decrypt). */
export class S3SnapshotLinks implements SnapshotLinks {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    /** snapshotLinkSeconds: an hour by default, short for a link to a biometric image (SigV4 allows up to 7 days). */
    readonly lifetimeSeconds: number,
  ) {}

  urlFor(key: string): Promise<string> {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: this.lifetimeSeconds });
  }
}
