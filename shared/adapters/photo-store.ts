import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { PhotoStore } from '../use-cases/index-photo';
import type { PhotoCopier } from '../use-cases/visitors';

/** DeleteObjects accepts at most 1000 keys per call. */
const DELETE_BATCH = 1000;

export class S3PhotoStore implements PhotoStore, PhotoCopier {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      // Without s3:ListBucket (which the indexer does not get), S3 answers a missing key with 403, not 404.
      if ((error as Error).name === 'NotFound' || (error as Error).name === 'NoSuchKey' || status === 404 || status === 403) return false;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /** CopyObject within the bucket (a new object: its S3 event reaches the indexer like an upload's). */
  async copy(fromKey: string, toKey: string): Promise<boolean> {
    try {
      await this.client.send(
        new CopyObjectCommand({ Bucket: this.bucket, Key: toKey, CopySource: `${this.bucket}/${fromKey.split('/').map(encodeURIComponent).join('/')}`, ContentType: 'image/jpeg', MetadataDirective: 'REPLACE' }),
      );
      return true;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if ((error as Error).name === 'NoSuchKey' || status === 404) return false;
      throw error;
    }
  }

  async delete(keys: readonly string[]): Promise<number> {
    let deleted = 0;
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const response = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: false },
        }),
      );
      const failed = response.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw new Error(`Could not delete ${failed.length} photo(s) from the bucket, e.g. ${first.Key}: ${first.Code} ${first.Message}`);
      }
      deleted += response.Deleted?.length ?? batch.length;
    }
    return deleted;
  }
}
