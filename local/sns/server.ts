/**
 * A local SNS: the AWS query protocol (form-encoded POST, XML answers) as the SDK's SNSClient and the AWS
 * CLI speak it. Topics and subscriptions persist under dataDir. Every message published is kept as one
 * JSON file in the outbox; email subscriptions are delivered over SMTP (to the local mail catcher), SMS
 * to a callback (the console), other protocols to an optional delivery hook.
 */
import { attributeValues, matchesFilterPolicy, parseFilterPolicy } from './filter-policy';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { sendEmail } from './smtp';
import { listenOnLoopback } from '../listen';

export interface Topic {
  arn: string;
  name: string;
  attributes: Record<string, string>;
  createdAt: string;
}

export interface Subscription {
  arn: string;
  topicArn: string;
  protocol: string;
  endpoint: string;
  attributes: Record<string, string>;
}

export interface MessageAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

/** What the outbox keeps for each published message. */
export interface PublishedMessage {
  MessageId: string;
  TopicArn?: string;
  PhoneNumber?: string;
  Subject?: string;
  Message: string;
  MessageStructure?: string;
  MessageAttributes: Record<string, MessageAttribute>;
  Timestamp: string;
  /** filtered: the subscription's filter policy did not match (local/sns/filter-policy.ts), as on AWS: not sent. */
  deliveries: { protocol: string; endpoint: string; status: 'delivered' | 'failed' | 'skipped' | 'filtered'; detail?: string }[];
}

export interface SnsServerOptions {
  port?: number;
  host?: string;
  dataDir: string;
  region?: string;
  accountId?: string;
  /** Where each published message is written as one JSON file. */
  outboxDir: string;
  /** SMTP server that receives email deliveries (the local mail catcher). */
  smtp?: { host: string; port: number };
  /** Called for each SMS delivery (default: printed to stdout). */
  onSms?: (phoneNumber: string, message: string) => void;
  /** Delivery of other protocols (sqs, lambda, http...): throw to record a failure. */
  deliver?: (subscription: Subscription, body: string) => Promise<void>;
  onError?: (error: unknown) => void;
}

export interface SnsServer {
  url: string;
  port: number;
  close(): Promise<void>;
  topics(): Topic[];
  subscriptions(): Subscription[];
}

class SnsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
const escapeXml = (s: string) => s.replace(/[<>&'"\r]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;', '\r': '&#13;' })[c]!);

type XmlValue = string | number | boolean | XmlValue[] | { [key: string]: XmlValue };
function toXml(value: XmlValue): string {
  if (Array.isArray(value)) return value.map((v) => `<member>${toXml(v)}</member>`).join('');
  if (typeof value === 'object') return Object.entries(value).map(([k, v]) => `<${k}>${toXml(v)}</${k}>`).join('');
  return escapeXml(String(value));
}
const entries = (map: Record<string, string>) => ({ entry: Object.entries(map).map(([key, value]) => ({ key, value })) });
/** Maps are `<entry><key/><value/></entry>` repeated, not wrapped in <member>. */
function mapXml(map: Record<string, string>): string {
  return entries(map).entry.map((e) => `<entry><key>${escapeXml(e.key)}</key><value>${escapeXml(e.value)}</value></entry>`).join('');
}

/** `Attributes.entry.1.key=..&Attributes.entry.1.value=..` → {key: value}. */
function parseMap(params: URLSearchParams, prefix: string, keyName = 'key', valueName = 'value'): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 1; params.has(`${prefix}.entry.${i}.${keyName}`); i++) {
    out[params.get(`${prefix}.entry.${i}.${keyName}`)!] = params.get(`${prefix}.entry.${i}.${valueName}`) ?? '';
  }
  return out;
}

function parseMessageAttributes(params: URLSearchParams): Record<string, MessageAttribute> {
  const out: Record<string, MessageAttribute> = {};
  for (let i = 1; params.has(`MessageAttributes.entry.${i}.Name`); i++) {
    const p = `MessageAttributes.entry.${i}`;
    const name = params.get(`${p}.Name`)!;
    const dataType = params.get(`${p}.Value.DataType`);
    if (!dataType) throw new SnsError('InvalidParameterValue', `The message attribute '${name}' must contain non-empty message attribute type.`);
    const attribute: MessageAttribute = { DataType: dataType };
    if (params.has(`${p}.Value.StringValue`)) attribute.StringValue = params.get(`${p}.Value.StringValue`)!;
    if (params.has(`${p}.Value.BinaryValue`)) attribute.BinaryValue = params.get(`${p}.Value.BinaryValue`)!;
    if (attribute.StringValue === undefined && attribute.BinaryValue === undefined) {
      throw new SnsError('ParameterValueInvalid', `The message attribute '${name}' must contain non-empty message attribute value.`);
    }
    out[name] = attribute;
  }
  return out;
}

const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const PHONE = /^\+?[1-9]\d{6,14}$/;

export async function startSnsServer(options: SnsServerOptions): Promise<SnsServer> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const stateFile = path.join(options.dataDir, 'state.json');
  fs.mkdirSync(options.dataDir, { recursive: true });
  fs.mkdirSync(options.outboxDir, { recursive: true });
  const state: { topics: Topic[]; subscriptions: Subscription[] } = fs.existsSync(stateFile)
    ? JSON.parse(fs.readFileSync(stateFile, 'utf8'))
    : { topics: [], subscriptions: [] };
  const save = () => {
    fs.writeFileSync(`${stateFile}.tmp`, JSON.stringify(state, null, 2));
    fs.renameSync(`${stateFile}.tmp`, stateFile);
  };
  const onSms = options.onSms ?? ((phone, message) => console.log(`[sms → ${phone}] ${message}`));
  const onError = options.onError ?? ((error) => console.error('[sns]', error));

  const topic = (arn: string | null) => {
    if (!arn) throw new SnsError('InvalidParameter', 'Invalid parameter: TopicArn');
    const found = state.topics.find((t) => t.arn === arn);
    if (!found) throw new SnsError('NotFound', 'Topic does not exist', 404);
    return found;
  };

  function bodyFor(sub: Subscription, message: PublishedMessage): string {
    const structured = message.MessageStructure === 'json' ? (JSON.parse(message.Message) as Record<string, string>) : undefined;
    const text = structured ? (structured[sub.protocol] ?? structured.default) : message.Message;
    if (sub.protocol === 'email' || sub.protocol === 'sms') return text;
    if (sub.attributes.RawMessageDelivery === 'true') return text;
    return JSON.stringify({
      Type: 'Notification',
      MessageId: message.MessageId,
      TopicArn: message.TopicArn,
      ...(message.Subject ? { Subject: message.Subject } : {}),
      Message: text,
      Timestamp: message.Timestamp,
      SignatureVersion: '1',
      UnsubscribeURL: `local://sns/unsubscribe/${encodeURIComponent(sub.arn)}`,
      MessageAttributes: Object.fromEntries(
        Object.entries(message.MessageAttributes).map(([k, v]) => [k, { Type: v.DataType, Value: v.StringValue ?? v.BinaryValue }]),
      ),
    });
  }

  async function deliver(sub: Subscription, message: PublishedMessage, t: Topic): Promise<PublishedMessage['deliveries'][number]> {
    const body = bodyFor(sub, message);
    const base = { protocol: sub.protocol, endpoint: sub.endpoint };
    if (sub.attributes.FilterPolicy) {
      const policy = parseFilterPolicy(sub.attributes.FilterPolicy);
      let subject: Record<string, unknown> | undefined;
      if (sub.attributes.FilterPolicyScope === 'MessageBody') {
        try {
          const parsed = JSON.parse(message.MessageStructure === 'json' ? (JSON.parse(message.Message)[sub.protocol] ?? JSON.parse(message.Message).default) : message.Message);
          subject = parsed && typeof parsed === 'object' ? parsed : undefined;
        } catch {
          subject = undefined; // not a JSON body: a body policy cannot match
        }
      } else {
        const values = attributeValues(message.MessageAttributes);
        subject = Object.keys(values).length ? values : undefined;
      }
      if (!matchesFilterPolicy(policy, subject)) return { ...base, status: 'filtered', detail: `filter policy ${sub.attributes.FilterPolicy} did not match` };
    }
    try {
      if (sub.protocol === 'email' || sub.protocol === 'email-json') {
        if (!options.smtp) return { ...base, status: 'skipped', detail: 'no mail catcher configured' };
        const displayName = t.attributes.DisplayName || 'AWS Notifications';
        await sendEmail(options.smtp, {
          from: `${displayName} <no-reply@sns.localhost>`,
          to: sub.endpoint,
          subject: message.Subject ?? (t.attributes.DisplayName || 'AWS Notification Message'),
          text: `${body}\n\n--\nSent by the local SNS of facewatch for topic ${t.arn} (subscription ${sub.arn}).\n`,
        });
      } else if (sub.protocol === 'sms') {
        onSms(sub.endpoint, body);
      } else if (options.deliver) {
        await options.deliver(sub, body);
      } else {
        return { ...base, status: 'skipped', detail: `protocol ${sub.protocol} is not delivered locally` };
      }
      return { ...base, status: 'delivered' };
    } catch (error) {
      onError(error);
      return { ...base, status: 'failed', detail: error instanceof Error ? error.message : String(error) };
    }
  }

  async function publish(params: URLSearchParams): Promise<XmlValue> {
    const topicArn = params.get('TopicArn') ?? params.get('TargetArn');
    const phone = params.get('PhoneNumber');
    const message = params.get('Message');
    if (message === null || message === '') throw new SnsError('InvalidParameter', 'Invalid parameter: Message');
    if (Buffer.byteLength(message) > 262_144) throw new SnsError('InvalidParameter', 'Invalid parameter: Message too long');
    const subject = params.get('Subject') ?? undefined;
    if (subject !== undefined && (subject.length > 100 || /[\r\n]/.test(subject))) {
      throw new SnsError('InvalidParameter', 'Invalid parameter: Subject');
    }
    const structure = params.get('MessageStructure') ?? undefined;
    if (structure !== undefined) {
      if (structure !== 'json') throw new SnsError('InvalidParameter', 'Invalid parameter: MessageStructure');
      let parsed: unknown;
      try {
        parsed = JSON.parse(message);
      } catch {
        throw new SnsError('InvalidParameter', 'Invalid parameter: Message Structure - JSON message body failed to parse');
      }
      if (!parsed || typeof parsed !== 'object' || typeof (parsed as Record<string, unknown>).default !== 'string') {
        throw new SnsError('InvalidParameter', 'Invalid parameter: Message Structure - No default entry in JSON message body');
      }
    }
    const attributes = parseMessageAttributes(params);
    const t = topicArn ? topic(topicArn) : undefined;
    if (!t) {
      if (!phone) throw new SnsError('InvalidParameter', 'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter');
      if (!PHONE.test(phone)) throw new SnsError('InvalidParameter', 'Invalid parameter: PhoneNumber Reason: not a valid E.164 number');
    }
    const published: PublishedMessage = {
      MessageId: randomUUID(),
      ...(t ? { TopicArn: t.arn } : { PhoneNumber: phone! }),
      ...(subject !== undefined ? { Subject: subject } : {}),
      Message: message,
      ...(structure ? { MessageStructure: structure } : {}),
      MessageAttributes: attributes,
      Timestamp: new Date().toISOString(),
      deliveries: [],
    };
    if (t) {
      const subs = state.subscriptions.filter((s) => s.topicArn === t.arn);
      published.deliveries = await Promise.all(subs.map((s) => deliver(s, published, t)));
    } else {
      onSms(phone!, message);
      published.deliveries = [{ protocol: 'sms', endpoint: phone!, status: 'delivered' }];
    }
    const file = path.join(options.outboxDir, `${published.Timestamp.replace(/[:.]/g, '-')}-${published.MessageId}.json`);
    fs.writeFileSync(file, JSON.stringify(published, null, 2));
    return { MessageId: published.MessageId };
  }

  const actions: Record<string, (params: URLSearchParams) => Promise<XmlValue | string> | XmlValue | string> = {
    CreateTopic(params) {
      const name = params.get('Name') ?? '';
      const fifo = name.endsWith('.fifo');
      if (!TOPIC_NAME.test(fifo ? name.slice(0, -5) : name)) {
        throw new SnsError('InvalidParameter', 'Invalid parameter: Topic Name');
      }
      const attributes = parseMap(params, 'Attributes');
      const arn = `arn:aws:sns:${region}:${accountId}:${name}`;
      const existing = state.topics.find((t) => t.arn === arn);
      if (existing) {
        for (const [k, v] of Object.entries(attributes)) {
          if (existing.attributes[k] !== undefined && existing.attributes[k] !== v) {
            throw new SnsError('InvalidParameter', 'Invalid parameter: Attributes Reason: Topic already exists with different attributes');
          }
        }
        return { TopicArn: arn };
      }
      state.topics.push({ arn, name, attributes, createdAt: new Date().toISOString() });
      save();
      return { TopicArn: arn };
    },
    DeleteTopic(params) {
      const t = topic(params.get('TopicArn'));
      state.topics = state.topics.filter((x) => x !== t);
      state.subscriptions = state.subscriptions.filter((s) => s.topicArn !== t.arn);
      save();
      return '';
    },
    ListTopics(params) {
      const start = Number(params.get('NextToken') ?? 0) || 0;
      const page = state.topics.slice(start, start + 100);
      const result: { [key: string]: XmlValue } = { Topics: page.map((t) => ({ TopicArn: t.arn })) };
      if (start + 100 < state.topics.length) result.NextToken = String(start + 100);
      return result;
    },
    GetTopicAttributes(params) {
      const t = topic(params.get('TopicArn'));
      const subs = state.subscriptions.filter((s) => s.topicArn === t.arn);
      return `<Attributes>${mapXml({
        TopicArn: t.arn,
        Owner: accountId,
        DisplayName: t.attributes.DisplayName ?? '',
        SubscriptionsConfirmed: String(subs.length),
        SubscriptionsPending: '0',
        SubscriptionsDeleted: '0',
        Policy: JSON.stringify({ Version: '2008-10-17', Id: '__default_policy_ID', Statement: [] }),
        EffectiveDeliveryPolicy: JSON.stringify({ http: { defaultHealthyRetryPolicy: { numRetries: 3 } } }),
        ...t.attributes,
      })}</Attributes>`;
    },
    SetTopicAttributes(params) {
      const t = topic(params.get('TopicArn'));
      const name = params.get('AttributeName');
      if (!name) throw new SnsError('InvalidParameter', 'Invalid parameter: AttributeName');
      t.attributes[name] = params.get('AttributeValue') ?? '';
      save();
      return '';
    },
    Subscribe(params) {
      const t = topic(params.get('TopicArn'));
      const protocol = params.get('Protocol') ?? '';
      const endpoint = params.get('Endpoint') ?? '';
      const known = ['email', 'email-json', 'sms', 'sqs', 'lambda', 'http', 'https', 'application', 'firehose'];
      if (!known.includes(protocol)) throw new SnsError('InvalidParameter', `Invalid parameter: Amazon SNS does not support this protocol string: ${protocol}`);
      if ((protocol === 'email' || protocol === 'email-json') && !/^[^@\s]+@[^@\s]+$/.test(endpoint)) {
        throw new SnsError('InvalidParameter', 'Invalid parameter: Email address');
      }
      if (protocol === 'sms' && !PHONE.test(endpoint)) throw new SnsError('InvalidParameter', 'Invalid parameter: Invalid SMS endpoint');
      const existing = state.subscriptions.find((s) => s.topicArn === t.arn && s.protocol === protocol && s.endpoint === endpoint);
      if (existing) return { SubscriptionArn: existing.arn };
      // Email subscriptions need a click on AWS; locally they are confirmed at once.
      const sub: Subscription = { arn: `${t.arn}:${randomUUID()}`, topicArn: t.arn, protocol, endpoint, attributes: parseMap(params, 'Attributes') };
      if (sub.attributes.FilterPolicy) {
        try {
          parseFilterPolicy(sub.attributes.FilterPolicy);
        } catch (error) {
          throw new SnsError('InvalidParameter', (error as Error).message);
        }
      }
      state.subscriptions.push(sub);
      save();
      return { SubscriptionArn: sub.arn };
    },
    Unsubscribe(params) {
      const arn = params.get('SubscriptionArn');
      const before = state.subscriptions.length;
      state.subscriptions = state.subscriptions.filter((s) => s.arn !== arn);
      if (state.subscriptions.length === before) throw new SnsError('NotFound', 'Subscription does not exist', 404);
      save();
      return '';
    },
    ListSubscriptionsByTopic(params) {
      const t = topic(params.get('TopicArn'));
      return { Subscriptions: state.subscriptions.filter((s) => s.topicArn === t.arn).map(describeSubscription) };
    },
    ListSubscriptions() {
      return { Subscriptions: state.subscriptions.map(describeSubscription) };
    },
    GetSubscriptionAttributes(params) {
      const sub = state.subscriptions.find((s) => s.arn === params.get('SubscriptionArn'));
      if (!sub) throw new SnsError('NotFound', 'Subscription does not exist', 404);
      return `<Attributes>${mapXml({
        SubscriptionArn: sub.arn,
        TopicArn: sub.topicArn,
        Protocol: sub.protocol,
        Endpoint: sub.endpoint,
        Owner: accountId,
        PendingConfirmation: 'false',
        ConfirmationWasAuthenticated: 'true',
        ...sub.attributes,
      })}</Attributes>`;
    },
    Publish: publish,
  };
  const describeSubscription = (s: Subscription) => ({ SubscriptionArn: s.arn, Owner: accountId, Protocol: s.protocol, Endpoint: s.endpoint, TopicArn: s.topicArn });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const requestId = randomUUID();
      const send = (status: number, xml: string) => {
        res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
        res.end(`<?xml version="1.0"?>\n${xml}`);
      };
      try {
        const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
        const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        query.forEach((v, k) => params.has(k) || params.set(k, v));
        const action = params.get('Action') ?? '';
        const handler = actions[action];
        if (!handler) throw new SnsError('InvalidAction', `The action ${action || '(none)'} is not valid for this endpoint.`);
        const result = await handler(params);
        const inner = typeof result === 'string' ? result : toXml(result);
        send(
          200,
          `<${action}Response xmlns="${XMLNS}">${inner ? `<${action}Result>${inner}</${action}Result>` : ''}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
        );
      } catch (error) {
        const e = error instanceof SnsError ? error : new SnsError('InternalError', error instanceof Error ? error.message : String(error), 500, 'Receiver');
        if (!(error instanceof SnsError)) onError(error);
        send(
          e.status,
          `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${e.type}</Type><Code>${e.code}</Code><Message>${escapeXml(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
      }
    });
  });
  return {
    ...(await listenOnLoopback(server, options.port ?? 0, options.host ?? '127.0.0.1')),
    topics: () => structuredClone(state.topics),
    subscriptions: () => structuredClone(state.subscriptions),
  };
}
