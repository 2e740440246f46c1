import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
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

  /** HeadObject (allowed by s3:GetObject): false when the object is not there. */
  async exists(key: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if ((error as Error).name === 'NotFound' || status === 404 || status === 403) return false;
      throw error;
    }
  }
}
