import { CopyObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { FacesFolder } from '../use-cases/sighting-review';
import type { UploadLinks } from '../use-cases/photo-uploads';

/**
 * Writes into faces/ of the faces bucket for the console: presigned PUTs the browser sends photos with, and copies
 * of snapshots. Either way the S3 event (not this code) makes the indexer register the photo. The role needs
 * s3:PutObject on faces/* (and s3:GetObject on snapshots/* to copy), plus the bucket key's kms:GenerateDataKey/Decrypt.
 */
export class S3FacesFolder implements FacesFolder, UploadLinks {
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

  async copyIn(sourceKey: string, photoKey: string): Promise<void> {
    await this.s3.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: photoKey,
        CopySource: `${this.bucket}/${sourceKey.split('/').map(encodeURIComponent).join('/')}`,
        ContentType: 'image/jpeg',
        MetadataDirective: 'REPLACE',
      }),
    );
  }
}
