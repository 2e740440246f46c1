/**
 * A local SQS for the consumer's on-failure destination: the AWS JSON 1.0 protocol as SQSClient v3 sends
 * it (X-Amz-Target: AmazonSQS.<Operation>), with AWS's error codes and the MD5 digests the SDK checks.
 * Queues and messages persist under dataDir. Queue URLs use the Host the request came through (the
 * single endpoint), because the SDK sends each queue's requests to its URL's host.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { AddressInfo } from 'node:net';
import { listenOnLoopback } from '../listen';

interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

interface StoredMessage {
  MessageId: string;
  Body: string;
  MD5OfBody: string;
  MessageAttributes?: Record<string, MessageAttributeValue>;
  MD5OfMessageAttributes?: string;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  receiptHandle?: string;
}

interface Queue {
  name: string;
  arn: string;
  attributes: Record<string, string>;
  createdAt: number;
  messages: StoredMessage[];
}

export interface SqsServerOptions {
  port?: number;
  host?: string;
  dataDir: string;
  region?: string;
  accountId?: string;
}

export interface SqsServer {
  url: string;
  port: number;
  close(): Promise<void>;
  /** Messages currently in a queue (visible or not), for tests and the stack's banner. */
  peek(queueName: string): { MessageId: string; Body: string }[];
}

class SqsError extends Error {
  constructor(
    readonly type: string,
    readonly queryCode: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}
const nonExistent = () => new SqsError('QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
const invalid = (message: string) => new SqsError('InvalidParameterValue', 'InvalidParameterValue', message);

const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

/** AWS's digest of message attributes: sorted by name, each field length-prefixed (big-endian uint32). */
export function md5OfMessageAttributes(attributes: Record<string, MessageAttributeValue>): string {
  const parts: Buffer[] = [];
  const field = (value: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(value.length);
    parts.push(length, value);
  };
  for (const name of Object.keys(attributes).sort()) {
    const a = attributes[name];
    field(Buffer.from(name));
    field(Buffer.from(a.DataType));
    if (a.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      field(Buffer.from(a.BinaryValue, 'base64'));
    } else {
      parts.push(Buffer.from([1]));
      field(Buffer.from(a.StringValue ?? ''));
    }
  }
  return md5(Buffer.concat(parts));
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

export async function startSqsServer(options: SqsServerOptions): Promise<SqsServer> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  fs.mkdirSync(options.dataDir, { recursive: true });
  const stateFile = path.join(options.dataDir, 'state.json');
  const queues = new Map<string, Queue>(
    fs.existsSync(stateFile) ? (JSON.parse(fs.readFileSync(stateFile, 'utf8')) as Queue[]).map((q) => [q.name, q]) : [],
  );
  const save = () => {
    fs.writeFileSync(`${stateFile}.tmp`, JSON.stringify([...queues.values()]));
    fs.renameSync(`${stateFile}.tmp`, stateFile);
  };

  const queueFromUrl = (url: unknown): Queue => {
    if (typeof url !== 'string' || !url) throw new SqsError('MissingParameter', 'MissingParameter', 'The request must contain the parameter QueueUrl.');
    const name = url.replace(/\/+$/, '').split('/').pop() ?? '';
    const queue = queues.get(name);
    if (!queue) throw nonExistent();
    return queue;
  };
  const urlOf = (queue: Queue, host: string) => `http://${host}/${accountId}/${queue.name}`;
  const number = (value: unknown, name: string, min: number, max: number, fallback: number) => {
    if (value === undefined || value === null) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw invalid(`Value ${value} for parameter ${name} is invalid. Reason: must be between ${min} and ${max}.`);
    return n;
  };

  const operations: Record<string, (input: Record<string, unknown>, host: string) => Promise<unknown> | unknown> = {
    CreateQueue(input, host) {
      const name = String(input.QueueName ?? '');
      if (!QUEUE_NAME.test(name.replace(/\.fifo$/, ''))) {
        throw invalid('Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
      }
      const attributes = Object.fromEntries(Object.entries((input.Attributes as Record<string, unknown>) ?? {}).map(([k, v]) => [k, String(v)]));
      const existing = queues.get(name);
      if (existing) {
        for (const [k, v] of Object.entries(attributes)) {
          if (existing.attributes[k] !== undefined && existing.attributes[k] !== v) {
            throw new SqsError('QueueNameExists', 'QueueAlreadyExists', `A queue already exists with the same name and a different value for attribute ${k}`);
          }
        }
        return { QueueUrl: urlOf(existing, host) };
      }
      const queue: Queue = {
        name,
        arn: `arn:aws:sqs:${region}:${accountId}:${name}`,
        attributes: { VisibilityTimeout: '30', MessageRetentionPeriod: '345600', DelaySeconds: '0', ReceiveMessageWaitTimeSeconds: '0', ...attributes },
        createdAt: Date.now(),
        messages: [],
      };
      queues.set(name, queue);
      save();
      return { QueueUrl: urlOf(queue, host) };
    },
    GetQueueUrl(input, host) {
      const queue = queues.get(String(input.QueueName ?? ''));
      if (!queue) throw nonExistent();
      return { QueueUrl: urlOf(queue, host) };
    },
    ListQueues(input, host) {
      const prefix = String(input.QueueNamePrefix ?? '');
      return { QueueUrls: [...queues.values()].filter((q) => q.name.startsWith(prefix)).map((q) => urlOf(q, host)) };
    },
    DeleteQueue(input) {
      queues.delete(queueFromUrl(input.QueueUrl).name);
      save();
      return {};
    },
    GetQueueAttributes(input) {
      const queue = queueFromUrl(input.QueueUrl);
      expire(queue);
      const now = Date.now();
      const all: Record<string, string> = {
        ...queue.attributes,
        QueueArn: queue.arn,
        ApproximateNumberOfMessages: String(queue.messages.filter((m) => m.visibleAt <= now).length),
        ApproximateNumberOfMessagesNotVisible: String(queue.messages.filter((m) => m.visibleAt > now && m.receiveCount > 0).length),
        ApproximateNumberOfMessagesDelayed: String(queue.messages.filter((m) => m.visibleAt > now && m.receiveCount === 0).length),
        CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
        LastModifiedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      };
      const names = (input.AttributeNames as string[] | undefined) ?? [];
      const wanted = names.includes('All') ? Object.keys(all) : names.filter((n) => n in all);
      return wanted.length ? { Attributes: Object.fromEntries(wanted.map((n) => [n, all[n]])) } : {};
    },
    SendMessage(input) {
      const queue = queueFromUrl(input.QueueUrl);
      const body = input.MessageBody;
      if (typeof body !== 'string' || body.length === 0) throw new SqsError('MissingParameter', 'MissingParameter', 'The request must contain the parameter MessageBody.');
      if (Buffer.byteLength(body) > 262_144) throw invalid('One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.');
      const delay = number(input.DelaySeconds, 'DelaySeconds', 0, 900, Number(queue.attributes.DelaySeconds ?? 0));
      const attributes = input.MessageAttributes as Record<string, MessageAttributeValue> | undefined;
      const now = Date.now();
      const message: StoredMessage = {
        MessageId: randomUUID(),
        Body: body,
        MD5OfBody: md5(body),
        sentAt: now,
        visibleAt: now + delay * 1000,
        receiveCount: 0,
        ...(attributes && Object.keys(attributes).length ? { MessageAttributes: attributes, MD5OfMessageAttributes: md5OfMessageAttributes(attributes) } : {}),
      };
      queue.messages.push(message);
      save();
      return {
        MessageId: message.MessageId,
        MD5OfMessageBody: message.MD5OfBody,
        ...(message.MD5OfMessageAttributes ? { MD5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
      };
    },
    async ReceiveMessage(input) {
      const queue = queueFromUrl(input.QueueUrl);
      const max = number(input.MaxNumberOfMessages, 'MaxNumberOfMessages', 1, 10, 1);
      const wait = number(input.WaitTimeSeconds, 'WaitTimeSeconds', 0, 20, Number(queue.attributes.ReceiveMessageWaitTimeSeconds ?? 0));
      const visibility = number(input.VisibilityTimeout, 'VisibilityTimeout', 0, 43_200, Number(queue.attributes.VisibilityTimeout ?? 30));
      const deadline = Date.now() + wait * 1000;
      for (;;) {
        expire(queue);
        const now = Date.now();
        const ready = queue.messages.filter((m) => m.visibleAt <= now).slice(0, max);
        if (ready.length || now >= deadline) {
          for (const m of ready) {
            m.receiveCount += 1;
            m.firstReceivedAt ??= now;
            m.visibleAt = now + visibility * 1000;
            m.receiptHandle = Buffer.from(`${m.MessageId}:${randomUUID()}`).toString('base64');
          }
          if (ready.length) save();
          return ready.length ? { Messages: ready.map((m) => describe(m, input)) } : {};
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    DeleteMessage(input) {
      const queue = queueFromUrl(input.QueueUrl);
      const handle = input.ReceiptHandle;
      if (typeof handle !== 'string' || !handle) throw new SqsError('ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', 'The input receipt handle is invalid.');
      const index = queue.messages.findIndex((m) => m.receiptHandle === handle);
      if (index >= 0) queue.messages.splice(index, 1);
      else if (!queue.messages.some((m) => handle.length > 0 && Buffer.from(handle, 'base64').toString().startsWith(`${m.MessageId}:`))) {
        // AWS accepts a stale handle of a message already deleted; only a malformed one is an error.
        if (!/^[A-Za-z0-9+/=]+$/.test(handle)) throw new SqsError('ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`);
      }
      save();
      return {};
    },
    ChangeMessageVisibility(input) {
      const queue = queueFromUrl(input.QueueUrl);
      const handle = input.ReceiptHandle;
      if (typeof handle !== 'string' || !handle) throw new SqsError('ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', 'The input receipt handle is invalid.');
      const timeout = number(input.VisibilityTimeout, 'VisibilityTimeout', 0, 43_200, 0);
      const message = queue.messages.find((m) => m.receiptHandle === handle);
      if (!message || message.visibleAt <= Date.now()) {
        throw new SqsError('MessageNotInflight', 'AWS.SimpleQueueService.MessageNotInflight', 'The message referred to is not in flight.');
      }
      message.visibleAt = Date.now() + timeout * 1000;
      save();
      return {};
    },
    PurgeQueue(input) {
      queueFromUrl(input.QueueUrl).messages = [];
      save();
      return {};
    },
  };

  function expire(queue: Queue) {
    const retentionMs = Number(queue.attributes.MessageRetentionPeriod ?? 345_600) * 1000;
    const now = Date.now();
    queue.messages = queue.messages.filter((m) => now - m.sentAt < retentionMs);
  }

  function describe(m: StoredMessage, input: Record<string, unknown>) {
    const systemNames = [...((input.AttributeNames as string[]) ?? []), ...((input.MessageSystemAttributeNames as string[]) ?? [])];
    const system: Record<string, string> = {
      SenderId: accountId,
      SentTimestamp: String(m.sentAt),
      ApproximateReceiveCount: String(m.receiveCount),
      ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt ?? m.sentAt),
    };
    const attributes = systemNames.includes('All') ? system : Object.fromEntries(systemNames.filter((n) => n in system).map((n) => [n, system[n]]));
    const wantedAttributes = (input.MessageAttributeNames as string[]) ?? [];
    const messageAttributes =
      m.MessageAttributes && wantedAttributes.length
        ? Object.fromEntries(
            Object.entries(m.MessageAttributes).filter(([name]) => wantedAttributes.some((w) => w === 'All' || w === '.*' || w === name || (w.endsWith('.*') && name.startsWith(w.slice(0, -1))))),
          )
        : undefined;
    return {
      MessageId: m.MessageId,
      ReceiptHandle: m.receiptHandle,
      MD5OfBody: m.MD5OfBody,
      Body: m.Body,
      ...(Object.keys(attributes).length ? { Attributes: attributes } : {}),
      ...(messageAttributes && Object.keys(messageAttributes).length
        ? { MessageAttributes: messageAttributes, MD5OfMessageAttributes: md5OfMessageAttributes(messageAttributes) }
        : {}),
    };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const requestId = randomUUID();
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId, ...headers });
        res.end(JSON.stringify(body));
      };
      try {
        const target = String(req.headers['x-amz-target'] ?? '');
        const operation = target.startsWith('AmazonSQS.') ? operations[target.slice('AmazonSQS.'.length)] : undefined;
        if (!operation) throw new SqsError('InvalidAction', 'InvalidAction', `The action ${target || '(none)'} is not valid for this endpoint.`);
        const text = Buffer.concat(chunks).toString('utf8');
        const input = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        send(200, await operation(input, String(req.headers.host ?? `127.0.0.1:${(server.address() as AddressInfo).port}`)));
      } catch (error) {
        const e = error instanceof SqsError ? error : new SqsError('InternalError', 'InternalError', error instanceof Error ? error.message : String(error), 500);
        send(e.status, { __type: `com.amazonaws.sqs#${e.type}`, message: e.message }, { 'x-amzn-query-error': `${e.queryCode};${e.status >= 500 ? 'Receiver' : 'Sender'}` });
      }
    });
  });
  return {
    ...(await listenOnLoopback(server, options.port ?? 0, options.host ?? '127.0.0.1')),
    peek: (name) => (queues.get(name)?.messages ?? []).map((m) => ({ MessageId: m.MessageId, Body: m.Body })),
  };
}
