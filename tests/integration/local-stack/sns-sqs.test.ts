/**
 * The local SNS and SQS through the SDK's own clients, behind the single-endpoint gateway, as the
 * functions and the stack use them.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListTopicsCommand,
  NotFoundException,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
  InvalidParameterException,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startGateway, type Gateway } from '../../../local/gateway/server';
import { startSnsServer, type SnsServer } from '../../../local/sns/server';
import { startSqsServer, type SqsServer } from '../../../local/sqs/server';

/** A minimal SMTP server that keeps what it receives. */
function startMailbox(): Promise<{ port: number; messages: string[]; close(): void }> {
  const messages: string[] = [];
  const server = net.createServer((socket) => {
    let data = false;
    let body = '';
    socket.write('220 test\r\n');
    socket.on('data', (chunk) => {
      const text = chunk.toString();
      if (data) {
        body += text;
        if (body.endsWith('\r\n.\r\n')) {
          messages.push(body);
          data = false;
          socket.write('250 ok\r\n');
        }
        return;
      }
      for (const line of text.split('\r\n').filter(Boolean)) {
        if (line === 'DATA') {
          data = true;
          body = '';
          socket.write('354 go\r\n');
        } else if (line === 'QUIT') socket.end('221 bye\r\n');
        else socket.write(line.startsWith('EHLO') ? '250-test\r\n250 OK\r\n' : '250 ok\r\n');
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as net.AddressInfo).port, messages, close: () => server.close() })),
  );
}

describe('local SNS and SQS behind the gateway', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-sns-sqs-'));
  let gateway: Gateway;
  let sns: SnsServer;
  let sqs: SqsServer;
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  const sms: [string, string][] = [];
  let snsClient: SNSClient;
  let sqsClient: SQSClient;

  beforeAll(async () => {
    mailbox = await startMailbox();
    sns = await startSnsServer({
      dataDir: path.join(dir, 'sns'),
      outboxDir: path.join(dir, 'outbox'),
      smtp: { host: '127.0.0.1', port: mailbox.port },
      onSms: (phone, message) => sms.push([phone, message]),
    });
    sqs = await startSqsServer({ dataDir: path.join(dir, 'sqs') });
    gateway = await startGateway({ services: { sns: sns.url, sqs: sqs.url } });
    const config = { region: 'us-east-1', endpoint: gateway.url, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, requestHandler: new NodeHttpHandler() };
    snsClient = new SNSClient(config);
    sqsClient = new SQSClient(config);
  });

  afterAll(async () => {
    await gateway.close();
    await sns.close();
    await sqs.close();
    mailbox.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('topics and subscriptions: create, list, attributes, unsubscribe, delete', async () => {
    // When a topic is created, and created again, then both answer the same ARN
    const { TopicArn } = await snsClient.send(new CreateTopicCommand({ Name: 'alerts', Attributes: { DisplayName: 'facewatch' } }));
    expect(TopicArn).toBe('arn:aws:sns:us-east-1:000000000000:alerts');
    const again = await snsClient.send(new CreateTopicCommand({ Name: 'alerts', Attributes: { DisplayName: 'facewatch' } }));
    expect(again.TopicArn).toBe(TopicArn);

    // When an email address subscribes, then the topic lists it and counts it in its attributes
    const { SubscriptionArn } = await snsClient.send(new SubscribeCommand({ TopicArn, Protocol: 'email', Endpoint: 'me@example.com', ReturnSubscriptionArn: true }));
    const listed = await snsClient.send(new ListSubscriptionsByTopicCommand({ TopicArn }));
    expect(listed.Subscriptions).toEqual([{ SubscriptionArn, Owner: '000000000000', Protocol: 'email', Endpoint: 'me@example.com', TopicArn }]);
    const { Attributes } = await snsClient.send(new GetTopicAttributesCommand({ TopicArn }));
    expect(Attributes).toMatchObject({ TopicArn, DisplayName: 'facewatch', SubscriptionsConfirmed: '1' });
    expect((await snsClient.send(new ListTopicsCommand({}))).Topics).toContainEqual({ TopicArn });

    // When it unsubscribes, then the topic has no subscription; when the topic is deleted, then it is not found
    await snsClient.send(new UnsubscribeCommand({ SubscriptionArn }));
    expect((await snsClient.send(new ListSubscriptionsByTopicCommand({ TopicArn }))).Subscriptions ?? []).toHaveLength(0);
    await snsClient.send(new DeleteTopicCommand({ TopicArn }));
    await expect(snsClient.send(new GetTopicAttributesCommand({ TopicArn }))).rejects.toBeInstanceOf(NotFoundException);
  });

  test('a subscription filter policy is enforced: only matching messages are delivered; a malformed policy is refused', async () => {
    // Given a phone subscribed with a filter policy: person alice, kind anything but unknown
    const { TopicArn } = await snsClient.send(new CreateTopicCommand({ Name: 'filtered' }));
    await snsClient.send(new SubscribeCommand({ TopicArn, Protocol: 'sms', Endpoint: '+15555550142', Attributes: { FilterPolicy: JSON.stringify({ person: ['alice'], kind: [{ 'anything-but': 'unknown' }] }) } }));
    const before = sms.length;
    const publish = (person: string, kind = 'known') =>
      snsClient.send(new PublishCommand({ TopicArn, Message: `${person} seen`, MessageAttributes: { person: { DataType: 'String', StringValue: person }, kind: { DataType: 'String', StringValue: kind } } }));
    // When messages are published for bob, for an unknown alice, for alice and with no attributes
    await publish('bob');
    await publish('alice', 'unknown');
    await publish('alice');
    await snsClient.send(new PublishCommand({ TopicArn, Message: 'no attributes' }));
    // Then only alice's is delivered
    expect(sms.slice(before)).toEqual([['+15555550142', 'alice seen']]);
    // When a policy is not JSON, then the subscription is refused
    await expect(
      snsClient.send(new SubscribeCommand({ TopicArn, Protocol: 'sms', Endpoint: '+15555550143', Attributes: { FilterPolicy: '{person:' } })),
    ).rejects.toThrow(/FilterPolicy: failed to parse JSON/);
  });

  test('publish with MessageStructure json: email gets its entry by SMTP, sms its own, the outbox keeps the message', async () => {
    // Given a topic with an email and an sms subscription
    const { TopicArn } = await snsClient.send(new CreateTopicCommand({ Name: 'sightings' }));
    await snsClient.send(new SubscribeCommand({ TopicArn, Protocol: 'email', Endpoint: 'me@example.com' }));
    await snsClient.send(new SubscribeCommand({ TopicArn, Protocol: 'sms', Endpoint: '+15555550100' }));

    // When a message with an entry per protocol is published
    const { MessageId } = await snsClient.send(
      new PublishCommand({
        TopicArn,
        Subject: 'José seen',
        MessageStructure: 'json',
        Message: JSON.stringify({ default: 'plain', email: 'the email text — José', sms: 'short' }),
        MessageAttributes: { camera: { DataType: 'String', StringValue: 'front-door' } },
      }),
    );

    // Then the phone gets its sms entry, the mailbox one mail with the subject and the email entry, and the outbox keeps the message
    expect(sms).toContainEqual(['+15555550100', 'short']);
    expect(mailbox.messages).toHaveLength(1);
    const [headers, body] = mailbox.messages[0].split('\r\n\r\n');
    expect(headers).toContain('To: me@example.com');
    expect(headers).toContain(`Subject: =?UTF-8?B?${Buffer.from('José seen').toString('base64')}?=`);
    expect(Buffer.from(body.replace(/\r\n\.\r\n$/, ''), 'base64').toString('utf8')).toContain('the email text — José');
    const files = fs.readdirSync(path.join(dir, 'outbox')).filter((f) => f.includes(MessageId!));
    expect(files).toHaveLength(1);
    const kept = JSON.parse(fs.readFileSync(path.join(dir, 'outbox', files[0]), 'utf8'));
    expect(kept).toMatchObject({ MessageId, TopicArn, Subject: 'José seen', MessageAttributes: { camera: { DataType: 'String', StringValue: 'front-door' } } });
  });

  test('bad publishes fail with the SDK exception AWS gives', async () => {
    // Given a topic
    const { TopicArn } = await snsClient.send(new CreateTopicCommand({ Name: 'strict' }));

    // When a json message has no default entry, the message is empty, or the topic does not exist, then Publish fails as on AWS
    await expect(snsClient.send(new PublishCommand({ TopicArn, Message: JSON.stringify({ email: 'x' }), MessageStructure: 'json' }))).rejects.toThrow(/No default entry/);
    await expect(snsClient.send(new PublishCommand({ TopicArn, Message: '' }))).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(snsClient.send(new PublishCommand({ TopicArn: `${TopicArn}-nope`, Message: 'x' }))).rejects.toBeInstanceOf(NotFoundException);
  });

  test('queues: send, receive (with attributes), delete, purge; the SDK checks the MD5s', async () => {
    // When a queue is created, then its URL is on the gateway and GetQueueUrl answers it
    const { QueueUrl } = await sqsClient.send(new CreateQueueCommand({ QueueName: 'dlq', Attributes: { MessageRetentionPeriod: '1209600' } }));
    expect(QueueUrl).toBe(`${gateway.url}/000000000000/dlq`);
    expect((await sqsClient.send(new GetQueueUrlCommand({ QueueName: 'dlq' }))).QueueUrl).toBe(QueueUrl);

    // When a message with an attribute is sent and received, then it comes with its body, attributes and receive count
    await sqsClient.send(new SendMessageCommand({ QueueUrl, MessageBody: '{"batch":1}', MessageAttributes: { kind: { DataType: 'String', StringValue: 'kinesis' } } }));
    const { Messages } = await sqsClient.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
    );
    expect(Messages).toHaveLength(1);
    expect(Messages![0]).toMatchObject({ Body: '{"batch":1}', Attributes: { ApproximateReceiveCount: '1' }, MessageAttributes: { kind: { StringValue: 'kinesis' } } });
    // In flight: not received again until deleted or visible again.
    expect((await sqsClient.send(new ReceiveMessageCommand({ QueueUrl }))).Messages ?? []).toHaveLength(0);
    // When it is deleted, then the queue is empty and keeps its retention
    await sqsClient.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: Messages![0].ReceiptHandle }));
    const attributes = await sqsClient.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    expect(attributes.Attributes).toMatchObject({ QueueArn: 'arn:aws:sqs:us-east-1:000000000000:dlq', ApproximateNumberOfMessages: '0', MessageRetentionPeriod: '1209600' });

    // When the queue is purged, then nothing is left; a queue that does not exist has no URL
    await sqsClient.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' }));
    await sqsClient.send(new PurgeQueueCommand({ QueueUrl }));
    expect(sqs.peek('dlq')).toHaveLength(0);
    await expect(sqsClient.send(new GetQueueUrlCommand({ QueueName: 'nope' }))).rejects.toBeInstanceOf(QueueDoesNotExist);
  });

  test('topics, subscriptions and queued messages survive a restart', async () => {
    // Given a topic and a queue holding a message
    const { TopicArn } = await snsClient.send(new CreateTopicCommand({ Name: 'kept' }));
    const { QueueUrl } = await sqsClient.send(new CreateQueueCommand({ QueueName: 'kept' }));
    await sqsClient.send(new SendMessageCommand({ QueueUrl, MessageBody: 'still here' }));

    // When SNS and SQS restart on the same data
    await sns.close();
    await sqs.close();
    sns = await startSnsServer({ dataDir: path.join(dir, 'sns'), outboxDir: path.join(dir, 'outbox') });
    sqs = await startSqsServer({ dataDir: path.join(dir, 'sqs') });
    gateway.setService('sns', sns.url);
    gateway.setService('sqs', sqs.url);

    // Then the topic and the message are still there
    expect((await snsClient.send(new ListTopicsCommand({}))).Topics).toContainEqual({ TopicArn });
    expect(sqs.peek('kept').map((m) => m.Body)).toEqual(['still here']);
  });
});
