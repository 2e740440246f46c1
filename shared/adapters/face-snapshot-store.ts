import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SnapshotStore } from '../use-cases/processor-ports';

/** JPEG snapshots of faces in the faces bucket (keys from shared/domain/snapshot-key.ts). */
export class S3FaceSnapshotStore implements SnapshotStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, jpeg: Uint8Array): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: jpeg, ContentType: 'image/jpeg' }));
  }
}
