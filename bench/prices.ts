/**
 * us-east-1 list prices (first volume tier) the cost benchmark turns counted units into dollars with. Each names
 * the AWS pricing page it comes from; the figures are those docs/self-processor.md has used since it first priced
 * the processor (read from those pages; re-check them before relying on a figure). A price AWS does not publish
 * in a form this table can hold is a named parameter of the benchmark instead (never a silent zero).
 */
export interface Price {
  usd: number;
  per: string;
  source: string;
}

export const PRICES = {
  /** Group 2 (DetectFaces) and group 1 (SearchFacesByImage, IndexFaces) image APIs: $1.00 per 1,000 images, first 1 M a month. */
  rekognitionImage: { usd: 0.001, per: 'image', source: 'https://aws.amazon.com/rekognition/pricing/' },
  /** Lambda on arm64: $0.0000133334 per GB-second, $0.20 per million requests. */
  lambdaArmGbSecond: { usd: 0.0000133334, per: 'GB-s', source: 'https://aws.amazon.com/lambda/pricing/' },
  lambdaRequest: { usd: 0.2 / 1e6, per: 'request', source: 'https://aws.amazon.com/lambda/pricing/' },
  /** Kinesis Data Streams, provisioned: shard-hour, PUT payload unit (25 KB), enhanced fan-out consumer-shard hour and data read. */
  kinesisShardHour: { usd: 0.015, per: 'shard-hour', source: 'https://aws.amazon.com/kinesis/data-streams/pricing/' },
  kinesisPutPayloadUnit: { usd: 0.014 / 1e6, per: '25 KB PUT payload unit', source: 'https://aws.amazon.com/kinesis/data-streams/pricing/' },
  kinesisConsumerShardHour: { usd: 0.015, per: 'consumer-shard-hour', source: 'https://aws.amazon.com/kinesis/data-streams/pricing/' },
  kinesisFanOutGb: { usd: 0.013, per: 'GB read through enhanced fan-out', source: 'https://aws.amazon.com/kinesis/data-streams/pricing/' },
  /** Kinesis Video Streams: data consumed. */
  kvsDataConsumedGb: { usd: 0.0085, per: 'GB consumed', source: 'https://aws.amazon.com/kinesis/video-streams/pricing/' },
  /** DynamoDB on demand: $0.625 per million write request units, $0.125 per million read request units. */
  dynamoWriteUnit: { usd: 0.625 / 1e6, per: 'write request unit', source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/' },
  dynamoReadUnit: { usd: 0.125 / 1e6, per: 'read request unit', source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/' },
  /** S3 Standard requests. */
  s3Put: { usd: 0.005 / 1000, per: 'PUT/POST/LIST request', source: 'https://aws.amazon.com/s3/pricing/' },
  s3Get: { usd: 0.0004 / 1000, per: 'GET request', source: 'https://aws.amazon.com/s3/pricing/' },
  /** SNS publishes ($0.50 per million after the first million); deliveries (email, SMS) are priced per alert, not per camera-hour. */
  snsPublish: { usd: 0.5 / 1e6, per: 'publish', source: 'https://aws.amazon.com/sns/pricing/' },
} satisfies Record<string, Price>;

/** Dollars for counted units (local/usage/meter.ts's keys), `kvsImageUsd` being the GetImages per-image price given to the bench. */
export function costOf(usage: Record<string, number>, kvsImageUsd: number): number {
  const n = (key: string) => usage[key] ?? 0;
  const images = Object.entries(usage)
    .filter(([key]) => key.startsWith('rekognition.') && key.endsWith('.images'))
    .reduce((sum, [, count]) => sum + count, 0);
  return (
    images * PRICES.rekognitionImage.usd +
    n('kinesisvideo.GetImages.images') * kvsImageUsd +
    (n('kinesisvideo.GetImages.bytes') / 1e9) * PRICES.kvsDataConsumedGb.usd +
    n('kinesis.putPayloadUnits') * PRICES.kinesisPutPayloadUnit.usd +
    n('dynamodb.writeUnits') * PRICES.dynamoWriteUnit.usd +
    n('dynamodb.readUnits') * PRICES.dynamoReadUnit.usd +
    (n('s3.PUT') + n('s3.LIST')) * PRICES.s3Put.usd +
    n('s3.GET') * PRICES.s3Get.usd +
    n('sns.Publish') * PRICES.snsPublish.usd
  );
}

/** What a camera costs per hour whatever it sees: processVideo running all hour at `memoryMb`, its 4 runs, the data stream's shard and consumer. */
export function hourlyFloor(memoryMb: number): number {
  return (
    3600 * (memoryMb / 1024) * PRICES.lambdaArmGbSecond.usd +
    4 * PRICES.lambdaRequest.usd +
    PRICES.kinesisShardHour.usd +
    PRICES.kinesisConsumerShardHour.usd
  );
}
