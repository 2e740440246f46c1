/** AWS::SQS::Queue: the queue with its declared attributes; its URL becomes its Ref. */
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { strings, type Provisioner } from './provisioner';

const QUEUE_ATTRIBUTES = ['DelaySeconds', 'MaximumMessageSize', 'MessageRetentionPeriod', 'ReceiveMessageWaitTimeSeconds', 'VisibilityTimeout', 'RedrivePolicy', 'FifoQueue'];

export const provisionQueue: Provisioner = async ({ id, props, attrs }, { cfn, clients }) => {
  const attributes = strings(Object.fromEntries(QUEUE_ATTRIBUTES.filter((n) => props[n] !== undefined).map((n) => [n, props[n]])));
  const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: attrs.ref.split('/').pop(), Attributes: attributes }));
  cfn.setAttributes(id, { ref: QueueUrl!, attributes: { QueueUrl: QueueUrl! } });
};
