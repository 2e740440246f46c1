/**
 * Creates every resource of the evaluated template, in dependency order, through the provisioner of its
 * CloudFormation type. Types with no local meaning are skipped quietly; a type with no provisioner is
 * skipped with a warning, so the template stays the only list of resources.
 */
import type { EvaluatedTemplate } from '../template';
import { provisionHttpApi, provisionIntegration, provisionRoute } from './api-gateway';
import { provisionTable } from './dynamodb';
import { provisionStream, provisionStreamConsumer } from './kinesis';
import { provisionVideoStream } from './kinesis-video';
import { provisionEventInvokeConfig, provisionEventSourceMapping, provisionFunction } from './lambda';
import type { ProvisionContext, Provisioned, Provisioner } from './provisioner';
import { provisionCollection, provisionStreamProcessor } from './rekognition';
import { provisionBucket } from './s3';
import { provisionAuthorizer, provisionDistribution } from './console';
import { bucketsBehindDistributions, HTTP_API_STANDS_IN_FOR, TOKEN_STANDS_IN_FOR } from '../console-hosting';
import { provisionSubscription, provisionTopic } from './sns';
import { provisionRule } from './events';
import { provisionQueue } from './sqs';

export type { ApiParts, ProvisionClients, Provisioned } from './provisioner';

/** Resource types with no local behaviour: permissions, logs, versions, alarms, deployment plumbing. */
export const NO_LOCAL_MEANING = new Set([
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::Logs::LogGroup',
  'AWS::Logs::SubscriptionFilter',
  'AWS::Lambda::Version',
  'AWS::Lambda::Permission',
  'AWS::Lambda::Alias',
  'AWS::S3::BucketPolicy',
  'AWS::SNS::TopicPolicy',
  'AWS::SQS::QueuePolicy',
  'AWS::CloudWatch::Alarm',
  'AWS::CloudWatch::Dashboard',
  'AWS::ApiGatewayV2::Stage',
  'AWS::ApiGatewayV2::Deployment',
  'AWS::KMS::Key',
  'AWS::KMS::Alias',
  // The console's sign-in (the API token stands in) and its distribution's plumbing (the HTTP API is the origin).
  ...TOKEN_STANDS_IN_FOR,
  ...HTTP_API_STANDS_IN_FOR,
]);

/** The provisioner of each resource type the local stack emulates. */
export const PROVISIONERS: ReadonlyMap<string, Provisioner> = new Map([
  ['AWS::S3::Bucket', provisionBucket],
  ['AWS::DynamoDB::Table', provisionTable],
  ['AWS::Kinesis::Stream', provisionStream],
  ['AWS::Kinesis::StreamConsumer', provisionStreamConsumer],
  ['AWS::KinesisVideo::Stream', provisionVideoStream],
  ['AWS::SQS::Queue', provisionQueue],
  ['AWS::SNS::Topic', provisionTopic],
  ['AWS::SNS::Subscription', provisionSubscription],
  ['AWS::Rekognition::Collection', provisionCollection],
  ['AWS::Rekognition::StreamProcessor', provisionStreamProcessor],
  ['AWS::Lambda::Function', provisionFunction],
  ['AWS::Lambda::EventSourceMapping', provisionEventSourceMapping],
  ['AWS::Lambda::EventInvokeConfig', provisionEventInvokeConfig],
  ['AWS::Events::Rule', provisionRule],
  ['AWS::ApiGatewayV2::Api', provisionHttpApi],
  ['AWS::ApiGatewayV2::Integration', provisionIntegration],
  ['AWS::ApiGatewayV2::Route', provisionRoute],
  ['AWS::ApiGatewayV2::Authorizer', provisionAuthorizer],
  ['AWS::CloudFront::Distribution', provisionDistribution],
]);

export type ProvisionOptions = Omit<ProvisionContext, 'cfn' | 'found'>;

export async function provisionResources(cfn: EvaluatedTemplate, options: ProvisionOptions): Promise<Provisioned> {
  const { debug } = options;
  const found: Provisioned = {
    resources: {},
    ttlTables: [],
    definitions: [],
    notificationsByBucket: new Map(),
    mappings: [],
    asyncFailureDestinations: new Map(),
    apiParts: { apis: [], routes: [], integrations: new Map() },
    corsByBucket: new Map(),
    scheduleRules: [],
  };
  const consoleBuckets = bucketsBehindDistributions(cfn.template);
  const context: ProvisionContext = { ...options, cfn, found };
  for (const id of cfn.order) {
    const resource = cfn.resource(id);
    if (!cfn.isIncluded(id)) {
      debug(`${id} (${resource.Type}): condition ${resource.Condition} is false, not created`);
      continue;
    }
    if (NO_LOCAL_MEANING.has(resource.Type) || id === 'ServerlessDeploymentBucket') {
      debug(`${id} (${resource.Type}): no local meaning, skipped`);
      continue;
    }
    if (consoleBuckets.has(id)) {
      debug(`${id} (${resource.Type}): a CloudFront origin; locally the HTTP API serves the console's files, not created`);
      continue;
    }
    const props = cfn.properties(id);
    const attrs = cfn.attributesOf(id);
    const provision = PROVISIONERS.get(resource.Type);
    if (!provision) {
      options.warn(`${id} (${resource.Type}): the local stack does not emulate this resource type; skipped`);
      continue;
    }
    await provision({ id, props, attrs }, context);
    const after = cfn.attributesOf(id);
    found.resources[id] = { type: resource.Type, ref: after.ref, attributes: after.attributes };
  }
  return found;
}
