/** AWS::S3::Bucket: the bucket, its Lambda notifications for the notification router, and its CORS rules. */
import { createHash } from 'node:crypto';
import { CreateBucketCommand, type CORSRule } from '@aws-sdk/client-s3';
import { unlessAlreadyThere, type Provisioner } from './provisioner';

export const provisionBucket: Provisioner = async ({ id, props, attrs }, { clients, warn, found }) => {
  await clients.s3.send(new CreateBucketCommand({ Bucket: attrs.ref })).catch(unlessAlreadyThere);
  const configs = ((props.NotificationConfiguration as Record<string, unknown> | undefined)?.LambdaConfigurations ?? []) as Record<string, unknown>[];
  const notifications = configs.map((c, i) => {
    const rules = ((c.Filter as { S3Key?: { Rules?: { Name: string; Value: string }[] } })?.S3Key?.Rules ?? []) as { Name: string; Value: string }[];
    return {
      event: String(c.Event),
      functionArn: String(c.Function),
      prefix: rules.find((r) => r.Name.toLowerCase() === 'prefix')?.Value,
      suffix: rules.find((r) => r.Name.toLowerCase() === 'suffix')?.Value,
      configurationId: createHash('sha1').update(`${id}:${i}`).digest('base64').slice(0, 20),
    };
  });
  for (const other of ['QueueConfigurations', 'TopicConfigurations', 'EventBridgeConfiguration']) {
    if ((props.NotificationConfiguration as Record<string, unknown> | undefined)?.[other]) warn(`${id}: ${other} is not wired locally`);
  }
  if (notifications.length) found.notificationsByBucket.set(attrs.ref, notifications);
  const corsRules = (props.CorsConfiguration as { CorsRules?: CORSRule[] } | undefined)?.CorsRules;
  if (corsRules?.length) found.corsByBucket.set(attrs.ref, corsRules);
};
