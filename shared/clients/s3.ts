import { S3Client } from '@aws-sdk/client-s3';
import { clientOptions, hasCustomEndpoint } from './options';

export const s3 = new S3Client({
  ...clientOptions,
  forcePathStyle: hasCustomEndpoint('s3'),
  // Checksums only where S3 requires them: streamed uploads stay plain bytes for every S3 implementation.
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
