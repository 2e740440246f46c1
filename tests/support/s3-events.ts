/** S3 notification events as S3 sends them to Lambda, for in-process handler tests. */
import type { S3Event, S3EventRecord } from 'aws-lambda';

let sequence = 0x1000;

/** S3 URL-encodes keys in events, with '+' for a space. */
export function encodeEventKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%20/g, '+'))
    .join('/');
}

export function s3Record(
  eventName: 'ObjectCreated:Put' | 'ObjectRemoved:Delete',
  bucket: string,
  key: string,
  object: { size?: number; eTag?: string } = {},
): S3EventRecord {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: new Date().toISOString(),
    eventName,
    userIdentity: { principalId: 'AWS:AIDATEST' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': 'REQ', 'x-amz-id-2': 'ID2' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'faces',
      bucket: { name: bucket, ownerIdentity: { principalId: 'OWNER' }, arn: `arn:aws:s3:::${bucket}` },
      object: {
        key: encodeEventKey(key),
        sequencer: (++sequence).toString(16).toUpperCase().padStart(16, '0'),
        ...(eventName.startsWith('ObjectCreated') ? { size: object.size ?? 0, eTag: object.eTag ?? '' } : {}),
      } as S3EventRecord['s3']['object'],
    },
  };
}

export const s3Event = (...records: S3EventRecord[]): S3Event => ({ Records: records });
