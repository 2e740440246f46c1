/** AWS::SNS::Topic and AWS::SNS::Subscription. */
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { strings, type Provisioner } from './provisioner';

export const provisionTopic: Provisioner = async ({ props, attrs }, { clients }) => {
  const attributes = strings(Object.fromEntries(['DisplayName', 'KmsMasterKeyId', 'FifoTopic'].filter((n) => props[n] !== undefined).map((n) => [n, props[n]])));
  await clients.sns.send(new CreateTopicCommand({ Name: attrs.attributes.TopicName, Attributes: attributes }));
};

/** The subscription with its filter policy and raw delivery; its ARN becomes its Ref. */
export const provisionSubscription: Provisioner = async ({ id, props }, { cfn, clients }) => {
  const { SubscriptionArn } = await clients.sns.send(
    new SubscribeCommand({
      TopicArn: String(props.TopicArn),
      Protocol: String(props.Protocol),
      Endpoint: String(props.Endpoint),
      Attributes: strings({
        ...(props.FilterPolicy ? { FilterPolicy: props.FilterPolicy } : {}),
        ...(props.FilterPolicyScope ? { FilterPolicyScope: props.FilterPolicyScope } : {}),
        ...(props.RawMessageDelivery !== undefined ? { RawMessageDelivery: props.RawMessageDelivery } : {}),
      }),
      ReturnSubscriptionArn: true,
    }),
  );
  if (SubscriptionArn) cfn.setAttributes(id, { ref: SubscriptionArn });
};
