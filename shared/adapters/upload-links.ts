import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { UploadLinks } from '../use-cases/photo-uploads';

/**
 * Presigned PUTs the console's browser sends photos with, into faces/ of the faces bucket: the S3 event (not this
 * code) makes the indexer register them. The signer's role needs s3:PutObject on faces/* and the bucket key's
 * kms:GenerateDataKey: a presigned URL carries the signer's rights.
 */
export class S3UploadLinks implements UploadLinks {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    /** How long an upload link works: long enough for a slow phone upload of 15 MB, short for a write grant. */
    readonly lifetimeSeconds = 900,
  ) {}

  putUrl(key: string, contentType: string, bytes: number): Promise<string> {
    // Content type and length are signed: the browser must send exactly this file's type and size.
    return getSignedUrl(this.s3, new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: contentType, ContentLength: bytes }), {
      expiresIn: this.lifetimeSeconds,
      signableHeaders: new Set(['content-type', 'content-length']),
    });
  }
}
