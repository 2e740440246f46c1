/**
 * Counts the billable units of every request through the local endpoint, as AWS would bill them, so that a
 * benchmark reads what a real run made rather than estimating it:
 *   rekognition.<Api>.images         one image per image API call (DetectFaces, SearchFacesByImage, IndexFaces…)
 *   kinesisvideo.GetImages.images    images generated; kinesisvideo.GetImages.bytes their size
 *   kinesis.putPayloadUnits          25 KB units of PutRecord(s) records (rounded up per record)
 *   dynamodb.writeUnits/readUnits    on-demand request units (1 KB writes, 4 KB strongly consistent reads, by item size)
 *   s3.PUT / s3.GET / s3.LIST        requests
 *   sns.Publish, sqs.requests, lambda.Invoke
 * Failed requests (status ≥ 400) are not billed and not counted, but for DynamoDB's refused conditional writes,
 * which consume write capacity all the same (DynamoDB developer guide, "Conditional writes").
 * Item sizes are those of the request's (or response's) items as JSON: close to DynamoDB's own sizing.
 */
import type { Exchange } from '../gateway/server';

export type Usage = Record<string, number>;

const KB = 1024;
const IMAGE_APIS = new Set(['DetectFaces', 'SearchFacesByImage', 'IndexFaces', 'DetectLabels', 'CompareFaces', 'DetectText', 'RecognizeCelebrities', 'DetectModerationLabels', 'DetectProtectiveEquipment']);

const json = (body: Buffer): Record<string, unknown> => {
  try {
    return body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};
const bytesOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value ?? {}));
const units = (bytes: number, size: number) => Math.max(1, Math.ceil(bytes / size));

/** The bodies the meter reads: Kinesis record sizes, DynamoDB item sizes, SNS actions, GetImages' images. */
const BODIES: Record<string, { request: boolean; response: boolean }> = {
  kinesis: { request: true, response: false },
  dynamodb: { request: true, response: true },
  sns: { request: true, response: false },
  kinesisvideo: { request: false, response: true },
};
const NO_BODIES = { request: false, response: false };

export class UsageMeter {
  /** For the gateway: which bodies to copy for the meter (S3 uploads and downloads, say, are never copied). */
  readonly bodies = (service: string) => BODIES[service] ?? NO_BODIES;

  private counts: Usage = {};

  private add(key: string, n = 1): void {
    this.counts[key] = (this.counts[key] ?? 0) + n;
  }

  snapshot(): Usage {
    return { ...this.counts };
  }

  reset(): void {
    this.counts = {};
  }

  readonly observe = (x: Exchange): void => {
    const target = String(x.headers['x-amz-target'] ?? '');
    const operation = target.split('.').pop() ?? '';
    if (x.status >= 400) {
      if (x.service === 'dynamodb' && x.responseBody.toString('utf8').includes('ConditionalCheckFailedException')) {
        this.add('dynamodb.writeUnits', units(bytesOf(json(x.requestBody).Item ?? json(x.requestBody).Key), KB));
      }
      return;
    }
    switch (x.service) {
      case 'rekognition':
        if (IMAGE_APIS.has(operation)) this.add(`rekognition.${operation}.images`);
        else this.add(`rekognition.${operation}`);
        return;
      case 'kinesisvideo': {
        const path = x.url.split('?')[0];
        if (path === '/getImages') {
          const images = ((json(x.responseBody).Images as { ImageContent?: string }[] | undefined) ?? []).filter((i) => i.ImageContent);
          this.add('kinesisvideo.GetImages.images', images.length);
          this.add('kinesisvideo.GetImages.bytes', images.reduce((n, i) => n + Math.floor(((i.ImageContent ?? '').length * 3) / 4), 0));
        } else this.add(`kinesisvideo.${path.slice(1)}`);
        return;
      }
      case 'kinesis': {
        const body = json(x.requestBody);
        const records = operation === 'PutRecords' ? ((body.Records as { Data?: string; PartitionKey?: string }[]) ?? []) : operation === 'PutRecord' ? [body as { Data?: string; PartitionKey?: string }] : [];
        for (const r of records) this.add('kinesis.putPayloadUnits', units(Math.floor(((r.Data ?? '').length * 3) / 4) + Buffer.byteLength(r.PartitionKey ?? ''), 25 * KB));
        if (!records.length) this.add(`kinesis.${operation}`);
        return;
      }
      case 'dynamodb': {
        const body = json(x.requestBody);
        const answer = json(x.responseBody);
        if (operation === 'PutItem') this.add('dynamodb.writeUnits', units(bytesOf(body.Item), KB));
        else if (operation === 'UpdateItem' || operation === 'DeleteItem') this.add('dynamodb.writeUnits', units(bytesOf(answer.Attributes ?? body.Key), KB));
        else if (operation === 'BatchWriteItem') {
          for (const requests of Object.values((body.RequestItems as Record<string, { PutRequest?: { Item: unknown }; DeleteRequest?: { Key: unknown } }[]>) ?? {}))
            for (const r of requests) this.add('dynamodb.writeUnits', units(bytesOf(r.PutRequest?.Item ?? r.DeleteRequest?.Key), KB));
        } else if (operation === 'GetItem') this.add('dynamodb.readUnits', units(bytesOf(answer.Item), 4 * KB));
        else if (operation === 'Query' || operation === 'Scan') this.add('dynamodb.readUnits', units(bytesOf(answer.Items), 4 * KB));
        else this.add(`dynamodb.${operation}`);
        return;
      }
      case 's3':
        if (x.method === 'PUT' || x.method === 'POST') this.add('s3.PUT');
        else if (x.method === 'GET' && /[?&]list-type=|^\/[^/]+\/?(\?|$)/.test(x.url)) this.add('s3.LIST');
        else if (x.method === 'GET' || x.method === 'HEAD') this.add('s3.GET');
        return;
      case 'sns': {
        const action = new URLSearchParams(x.requestBody.toString('utf8')).get('Action') ?? new URL(x.url, 'http://x').searchParams.get('Action') ?? 'request';
        this.add(`sns.${action}`);
        return;
      }
      case 'lambda':
        this.add(/\/invocations\b/.test(x.url) ? 'lambda.Invoke' : 'lambda.request');
        return;
      default:
        this.add(`${x.service}.requests`);
    }
  };
}
