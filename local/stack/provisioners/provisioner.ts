/**
 * What a provisioner is: the code that creates one CloudFormation resource type in the local services and
 * records what later steps of the stack need from it (functions, event sources, notifications, routes).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import type { RekognitionClient } from '@aws-sdk/client-rekognition';
import type { CORSRule, S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { FunctionDefinition } from '../functions';
import type { LambdaNotification } from '../s3-notifications';
import type { ResourceInfo } from '../stack-info';
import type { EvaluatedTemplate, ResourceAttributes } from '../template';
import type { TtlTable } from '../ttl-sweeper';

/** The HTTP API's parts, by logical id; integrations by their Ref (what a route's Target names). */
export interface ApiParts {
  apis: string[];
  routes: string[];
  integrations: Map<string, string>;
}

/** What the resources gave the later steps, gathered while they are created. */
export interface Provisioned {
  /** Every created resource as stack.json lists it. */
  resources: Record<string, ResourceInfo>;
  ttlTables: TtlTable[];
  definitions: FunctionDefinition[];
  notificationsByBucket: Map<string, LambdaNotification[]>;
  /** Logical ids of the event source mappings. */
  mappings: string[];
  /** Function name → destination ARN of its failed asynchronous events (AWS::Lambda::EventInvokeConfig). */
  asyncFailureDestinations: Map<string, string>;
  apiParts: ApiParts;
  /** Bucket → its CORS rules (the console's uploads; locally they allow the console's local origin). */
  corsByBucket: Map<string, CORSRule[]>;
  /** Logical ids of the scheduled rules (run by schedules.ts once the functions are up). */
  scheduleRules: string[];
}

export interface ProvisionClients {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  kinesis: KinesisClient;
  kinesisVideo: KinesisVideoClient;
  sqs: SQSClient;
  sns: SNSClient;
  rekognition: RekognitionClient;
}

export interface ProvisionContext {
  cfn: EvaluatedTemplate;
  clients: ProvisionClients;
  /** The package's folder, which holds the functions' bundles. */
  buildDir: string;
  /** Where each function's bundle is unpacked (a folder per function). */
  functionsDir: string;
  warn: (line: string) => void;
  debug: (line: string) => void;
  /** Where the local HTTP API listens: the console's distribution stands for it. */
  localApiUrl: string;
  /** Where a provisioner records what the later steps need. */
  found: Provisioned;
}

/** One resource to create: its logical id, evaluated properties and default Ref/GetAtt values. */
export interface TemplateResource {
  id: string;
  props: Record<string, unknown>;
  attrs: ResourceAttributes;
}

export type Provisioner = (resource: TemplateResource, context: ProvisionContext) => Promise<void>;

/** Attribute and environment maps hold strings: other values as JSON. */
export const strings = (record: Record<string, unknown> | undefined) =>
  Object.fromEntries(Object.entries(record ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));

/** CloudFormation's Tags list as the SDK's tag map. */
export const tagsOf = (props: Record<string, unknown>) => Object.fromEntries(((props.Tags as { Key: string; Value: string }[]) ?? []).map((t) => [t.Key, t.Value]));

const isAlreadyThere = (error: unknown) => /AlreadyExists|AlreadyOwned|ResourceInUse|QueueNameExists/.test((error as { name?: string })?.name ?? '');

/** For a create's catch: a resource kept in the data dir from an earlier start is fine; any other error is not. */
export const unlessAlreadyThere = (error: unknown) => {
  if (!isAlreadyThere(error)) throw error;
};
