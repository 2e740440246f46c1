import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

export const TEST_DATA_STREAM_ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/facewatch-dev-front-door-face-search';

/** A Kinesis event as Lambda delivers it: one shard, increasing sequence numbers, base64 data. */
export function kinesisEvent(data: string[], options: { arrival?: number; firstSequence?: bigint } = {}): KinesisStreamEvent {
  const first = options.firstSequence ?? 49_600_000_000_000_000_000_000_000_000_000_000_000_000_000_000n;
  return {
    Records: data.map(
      (value, i): KinesisStreamRecord => ({
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: 'front-door',
          sequenceNumber: (first + BigInt(i)).toString(),
          data: value,
          approximateArrivalTimestamp: options.arrival ?? 1_700_000_001.5,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `shardId-000000000000:${(first + BigInt(i)).toString()}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::123456789012:role/consumer',
        awsRegion: 'us-east-1',
        eventSourceARN: TEST_DATA_STREAM_ARN,
      }),
    ),
  };
}
