/**
 * What a request through the local endpoint asks IAM for: its action (`dynamodb:PutItem`) and the ARN of the
 * resource it acts on, for every service this project uses (DynamoDB, S3, Kinesis, Kinesis Video, Rekognition,
 * SNS, SQS, Lambda). The resource rules follow each service's "Actions, resources, and condition keys" page
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html):
 * an action on no particular resource (DetectFaces, ListStreams, ListQueues) has the resource `*`.
 */
import type http from 'node:http';

export interface Authorization {
  action: string;
  resources: string[];
  /** Further actions the same request needs (S3 CopyObject also reads its source). */
  also?: Authorization[];
}

export interface ArnContext {
  region: string;
  accountId: string;
  /** Kinesis Video stream ARNs carry a creation time: name → ARN of the streams the stack created. */
  videoStreamArn?: (name: string) => string | undefined;
}

const S3_ACTION: Record<string, string> = { GET: 's3:GetObject', HEAD: 's3:GetObject', PUT: 's3:PutObject', DELETE: 's3:DeleteObject', POST: 's3:PutObject' };

function body(raw: Buffer | undefined): Record<string, unknown> {
  if (!raw?.length) return {};
  try {
    const parsed = JSON.parse(raw.toString('utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

const unescapeXml = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/** Whether the request's body is needed to tell its resource (small JSON and query bodies, not media or objects). */
export function needsBody(service: string, url: string, method?: string): boolean {
  // S3: only DeleteObjects (POST ?delete), whose keys are in its small XML body.
  if (service === 's3') return method === 'POST' && new URL(url, 'http://localhost').searchParams.has('delete');
  if (service === 'kinesisvideo') return !/^\/putMedia\b/.test(new URL(url, 'http://localhost').pathname);
  return true;
}

export function authorizationOf(service: string, req: Pick<http.IncomingMessage, 'headers' | 'url' | 'method'>, raw: Buffer | undefined, ctx: ArnContext): Authorization {
  const { region, accountId } = ctx;
  const url = new URL(req.url ?? '/', 'http://localhost');
  const target = String(req.headers['x-amz-target'] ?? '');
  const op = target.includes('.') ? target.slice(target.lastIndexOf('.') + 1) : '';
  const b = body(raw);
  switch (service) {
    case 'dynamodb': {
      const table = str(b.TableName);
      const arn = (name: string) => `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
      if (op === 'BatchWriteItem' || op === 'BatchGetItem') {
        const names = Object.keys((b.RequestItems as object) ?? {});
        return { action: `dynamodb:${op}`, resources: names.length ? names.map(arn) : ['*'] };
      }
      if (op === 'TransactWriteItems' || op === 'TransactGetItems') {
        // Each part needs its own action on its table.
        const items = (b.TransactItems as Record<string, { TableName?: string }>[] | undefined) ?? [];
        const parts = items.flatMap((item) => Object.entries(item).map(([kind, p]) => ({ kind, table: p?.TableName })));
        const actionOf: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem', Get: 'GetItem' };
        const first = parts[0];
        return { action: `dynamodb:${first ? actionOf[first.kind] ?? op : op}`, resources: parts.map((p) => (p.table ? arn(p.table) : '*')) };
      }
      if (!table) return { action: `dynamodb:${op}`, resources: ['*'] };
      const index = str(b.IndexName);
      return { action: `dynamodb:${op}`, resources: [index ? `${arn(table)}/index/${index}` : arn(table)] };
    }
    case 'kinesis': {
      const name = str(b.StreamName) ?? str(b.StreamARN)?.split('/').pop();
      return { action: `kinesis:${op}`, resources: [name ? `arn:aws:kinesis:${region}:${accountId}:stream/${name}` : '*'] };
    }
    case 'rekognition': {
      const collection = str(b.CollectionId);
      const processor = str(b.Name);
      if (collection) return { action: `rekognition:${op}`, resources: [`arn:aws:rekognition:${region}:${accountId}:collection/${collection}`] };
      if (processor && /StreamProcessor/.test(op)) return { action: `rekognition:${op}`, resources: [`arn:aws:rekognition:${region}:${accountId}:streamprocessor/${processor}`] };
      return { action: `rekognition:${op}`, resources: ['*'] };
    }
    case 'sqs': {
      let action = op;
      let queueUrl = str(b.QueueUrl);
      if (!action) {
        // The query protocol (older clients).
        const params = new URLSearchParams(raw?.toString('utf8') ?? '');
        action = url.searchParams.get('Action') ?? params.get('Action') ?? '';
        queueUrl = params.get('QueueUrl') ?? url.searchParams.get('QueueUrl') ?? undefined;
      }
      const name = queueUrl?.split('/').pop() ?? str(b.QueueName);
      const base = action.replace(/Batch$/, '');
      return { action: `sqs:${base}`, resources: [name ? `arn:aws:sqs:${region}:${accountId}:${name}` : '*'] };
    }
    case 'sns': {
      const params = new URLSearchParams(raw?.toString('utf8') ?? '');
      url.searchParams.forEach((v, k) => params.has(k) || params.set(k, v));
      const action = params.get('Action') ?? '';
      const topic = params.get('TopicArn') ?? params.get('TargetArn') ?? params.get('SubscriptionArn')?.split(':').slice(0, 6).join(':');
      return { action: `sns:${action}`, resources: [topic || '*'] };
    }
    case 's3': {
      const [bucket, ...rest] = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      if (!bucket) return { action: 's3:ListAllMyBuckets', resources: ['*'] };
      const key = rest.join('/');
      // DeleteObjects is authorized as s3:DeleteObject on each of its keys (there is no s3:DeleteObjects action).
      if (!key && req.method === 'POST' && url.searchParams.has('delete')) {
        const keys = [...(raw?.toString('utf8') ?? '').matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((m) => unescapeXml(m[1]));
        return { action: 's3:DeleteObject', resources: keys.length ? keys.map((k) => `arn:aws:s3:::${bucket}/${k}`) : [`arn:aws:s3:::${bucket}/*`] };
      }
      if (!key) {
        const action = req.method === 'GET' || req.method === 'HEAD' ? 's3:ListBucket' : req.method === 'PUT' ? 's3:CreateBucket' : req.method === 'DELETE' ? 's3:DeleteBucket' : 's3:PutObject';
        return { action, resources: [`arn:aws:s3:::${bucket}`] };
      }
      const action = url.searchParams.has('tagging') ? (req.method === 'GET' ? 's3:GetObjectTagging' : 's3:PutObjectTagging') : (S3_ACTION[req.method ?? 'GET'] ?? 's3:GetObject');
      // CopyObject: PutObject on the destination and GetObject on the source ("<bucket>/<key>", URL-encoded).
      const copySource = str(req.headers['x-amz-copy-source']);
      if (req.method === 'PUT' && copySource && !url.searchParams.has('partNumber')) {
        const source = decodeURIComponent(copySource.split('?')[0].replace(/^\//, ''));
        return { action, resources: [`arn:aws:s3:::${bucket}/${key}`], also: [{ action: 's3:GetObject', resources: [`arn:aws:s3:::${source}`] }] };
      }
      return { action, resources: [`arn:aws:s3:::${bucket}/${key}`] };
    }
    case 'kinesisvideo': {
      const operation = url.pathname.split('/').filter(Boolean)[0] ?? '';
      const action = `kinesisvideo:${operation.charAt(0).toUpperCase()}${operation.slice(1)}`;
      const arn = str(b.StreamARN) ?? str(req.headers['x-amzn-stream-arn']);
      const name = str(b.StreamName) ?? str(req.headers['x-amzn-stream-name']);
      const resolved = arn ?? (name ? (ctx.videoStreamArn?.(name) ?? `arn:aws:kinesisvideo:${region}:${accountId}:stream/${name}/0`) : undefined);
      return { action, resources: [resolved ?? '*'] };
    }
    case 'lambda': {
      const m = /^\/[^/]+\/functions\/([^/]+)\/invocations/.exec(url.pathname);
      if (m) {
        const name = decodeURIComponent(m[1]);
        return { action: 'lambda:InvokeFunction', resources: [name.startsWith('arn:') ? name : `arn:aws:lambda:${region}:${accountId}:function:${name}`] };
      }
      return { action: 'lambda:*', resources: ['*'] };
    }
    default:
      return { action: `${service}:${op || 'Unknown'}`, resources: ['*'] };
  }
}
