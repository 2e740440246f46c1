/**
 * The whole service on 127.0.0.1, as if deployed: packages it for stage `local`, starts the local AWS
 * services behind one endpoint, creates every resource of the compiled template, runs the bundled
 * functions in their own processes and wires their events (S3 notifications, Kinesis event source
 * mappings, HTTP API routes, SNS subscriptions) from the same template.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, waitUntilTableExists, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateStreamCommand as CreateVideoStreamCommand, DescribeStreamCommand as DescribeVideoStreamCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media';
import { CreateCollectionCommand, CreateStreamProcessorCommand, RekognitionClient } from '@aws-sdk/client-rekognition';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startKinesisVideoServer } from '../kinesis-video/server';
import { startRekognitionServer } from '../rekognition/server';
import { startGateway } from '../gateway/server';
import { FaultInjector, parseFaults } from '../gateway/faults';
import { functionAccessKeyId, identitiesFromTemplate, type PolicyStatement } from '../gateway/iam';
import { UsageMeter } from '../usage/meter';
import { startSnsServer, type Subscription } from '../sns/server';
import { startSqsServer } from '../sqs/server';
import { assertPortFree, startDynamoDb, startKinesis, startMailCatcher, startS3, type Running } from './backends';
import { endChildren, endLeftovers, releasePidFile, usePidFile } from './lifecycle';
import { fileLogger, LocalFunction, type FunctionDefinition } from './functions';
import { startHttpApi, type CorsConfiguration, type HttpRoute } from './http-api';
import { startLambdaApi } from './lambda-api';
import { managedProcessorRunner } from './self-processor-runner';
import { KinesisPoller, sqsOnFailureDestination, type KinesisOnFailureRecord } from './kinesis-poller';
import { packageService } from './package-service';
import { S3NotificationRouter, type LambdaNotification } from './s3-notifications';
import { EvaluatedTemplate, LOCAL_ACCOUNT_ID, LOCAL_REGION, type CfnTemplate } from './template';
import { extractZip } from './unzip';
import { startTtlSweeper, type TtlTable } from './ttl-sweeper';
import { startSchedules, type ScheduleInfo } from './schedules';
import { projectRoot } from '../project-root';

export const LOCAL_STAGE = 'local';
/** s3rver accepts only this key pair; the other local services accept any, so it is THE local pair. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
/**
 * How often a mapping that reads through an enhanced fan-out consumer reads its shard: the emulator has no
 * SubscribeToShard, so a read every 100 ms stands for AWS's push (records reach the function ~70 ms after they
 * arrive on average; here ~50 ms plus the read).
 */
export const ENHANCED_FAN_OUT_POLL_MS = 100;

export interface LocalStackOptions {
  /** Where all state lives (default .facewatch under the project root). */
  dataDir?: string;
  /** The single AWS endpoint's port (default 4566; 0 = any free port). */
  port?: number;
  /** The HTTP API's port (default 3000; 0 = any free port). */
  apiPort?: number;
  /** The mail catcher's web page port (default 1080; 0 = any free port). */
  mailPort?: number;
  /** Start from an empty data dir. */
  reset?: boolean;
  /** No function logs or progress on the console (they still go to <dataDir>/logs/). */
  quiet?: boolean;
  /** Debug lines (skipped resources, invocations) on the console. */
  verbose?: boolean;
  /** Stage parameters passed to `osls package` (e.g. { cameras: 'front-door,garage' }). */
  params?: Record<string, string>;
  /** Project root (default: found from this file). */
  root?: string;
  /** Where console lines go (default console.log). */
  print?: (line: string) => void;
  /** Changes the compiled template before it is deployed locally (tests: remove a permission). */
  transformTemplate?: (template: CfnTemplate) => void;
}

export interface ResourceInfo {
  type: string;
  ref: string;
  attributes: Record<string, string>;
}

export interface StackInfo {
  service: string;
  stage: string;
  region: string;
  accountId: string;
  endpoint: string;
  apiUrl: string;
  mailUrl: string;
  dataDir: string;
  tokenFile: string;
  credentials: { accessKeyId: string; secretAccessKey: string; region: string; hint: string };
  resources: Record<string, ResourceInfo>;
  functions: Record<string, { name: string; arn: string; handler: string; timeoutSeconds: number; memoryMb: number }>;
  routes: { routeKey: string; function: string }[];
  /** `consumer`: the enhanced fan-out consumer the mapping reads through, when it does. */
  eventSources: { function: string; stream: string; consumer?: string; settings: Record<string, unknown>; onFailure?: string }[];
  notifications: { bucket: string; event: string; prefix?: string; suffix?: string; function: string }[];
  subscriptions: { topic: string; protocol: string; endpoint: string }[];
  /** Scheduled rules run locally (local/stack/schedules.ts). */
  schedules: ScheduleInfo[];
  startedAt: string;
}

export interface LocalStack {
  endpoint: string;
  apiUrl: string;
  mailUrl: string;
  token: string;
  stackInfo: StackInfo;
  /** Invokes a function of the stack by logical id or name (tests, tools). */
  invoke(functionId: string, event: unknown): ReturnType<LocalFunction['invoke']>;
  /** Resolves when every S3 notification in flight has been handled. */
  notificationsIdle(): Promise<void>;
  /** The billable units of every request through the endpoint so far (local/usage/meter.ts). */
  usage: UsageMeter;
  stop(): Promise<void>;
}

/** Resource types with no local behaviour: permissions, logs, versions, alarms, deployment plumbing. */
const NO_LOCAL_MEANING = new Set([
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
]);


/** The API token: random on first start, kept in <dataDir>/api-token (owner-only), its SHA-256 given to the API. */
function apiToken(dataDir: string): { token: string; file: string } {
  const file = path.join(dataDir, 'api-token');
  if (fs.existsSync(file)) {
    const token = fs.readFileSync(file, 'utf8').trim();
    if (token) {
      fs.chmodSync(file, 0o600);
      return { token, file };
    }
  }
  const token = randomBytes(32).toString('base64url');
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, file };
}

const strings = (record: Record<string, unknown> | undefined) =>
  Object.fromEntries(Object.entries(record ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));

const isAlreadyThere = (error: unknown) =>
  /AlreadyExists|AlreadyOwned|ResourceInUse|QueueNameExists/.test((error as { name?: string })?.name ?? '');

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const root = options.root ?? projectRoot();
  const dataDir = path.resolve(root, options.dataDir ?? '.facewatch');
  const print = options.print ?? ((line: string) => console.log(line));
  const gatewayPort = options.port ?? 4566;
  const apiPort = options.apiPort ?? 3000;
  const mailPort = options.mailPort ?? 1080;

  // A stack of this data dir that was killed (kill -9) left its children running: end them first. A stack
  // still running with this data dir stops this start.
  const leftovers = await endLeftovers(dataDir);
  if (leftovers.length) print(`! ended what a previous stack of ${dataDir} left running: ${leftovers.map((l) => `${l.what} (pid ${l.pid})`).join(', ')}`);
  // Fail before any work when a fixed port is taken.
  await assertPortFree(gatewayPort, 'AWS endpoint', '--port');
  await assertPortFree(apiPort, 'HTTP API', '--api-port');
  await assertPortFree(mailPort, 'mail web page', '--mail-port');

  if (options.reset) fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dataDir, 'logs'), { recursive: true });
  usePidFile(dataDir);
  const stackLog = fs.createWriteStream(path.join(dataDir, 'logs', 'stack.log'), { flags: 'a' });
  const debug = (line: string) => {
    stackLog.write(`${new Date().toISOString()} ${line}\n`);
    if (options.verbose) print(`· ${line}`);
  };
  const info = (line: string) => {
    stackLog.write(`${new Date().toISOString()} ${line}\n`);
    if (!options.quiet) print(line);
  };
  const warn = (line: string) => {
    stackLog.write(`${new Date().toISOString()} WARN ${line}\n`);
    print(`! ${line}`);
  };

  const closers: (() => Promise<unknown> | unknown)[] = [];
  const stopAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        debug(`while stopping: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    // Whatever child is still running (a function mid-invocation, a slow mail catcher) is ended now.
    await endChildren();
    releasePidFile();
    await new Promise((r) => stackLog.end(r));
  };

  try {
    const region = LOCAL_REGION;
    const started = Date.now();
    const endpointHost = '127.0.0.1';

    // 1. Package (the slow part) while the services start.
    const packaging = packageService({ root, buildDir: path.join(dataDir, 'build'), stage: LOCAL_STAGE, region, params: options.params, log: debug });

    // 2. The single endpoint first, so every service can be told its public URL.
    const usage = new UsageMeter();
    // FACEWATCH_FAULTS: faults to inject from the start (local/gateway/faults.ts); /_facewatch/faults changes them.
    let faultRules;
    try {
      faultRules = parseFaults(process.env.FACEWATCH_FAULTS);
    } catch (error) {
      throw new Error(`FACEWATCH_FAULTS: ${(error as Error).message}`);
    }
    const gateway = await startGateway({
      port: gatewayPort,
      host: endpointHost,
      services: {},
      onError: (e) => debug(`gateway: ${String(e)}`),
      onDenied: (d) => warn(`IAM denied ${d.action} on ${d.resource} to ${d.principalArn} (its role in the template does not allow it)`),
      observe: usage.observe,
      observedBodies: usage.bodies,
      faults: new FaultInjector(faultRules),
    });
    if (faultRules.length) warn(`injecting faults (FACEWATCH_FAULTS): ${JSON.stringify(faultRules)}`);
    closers.push(() => gateway.close());
    const endpoint = gateway.url;

    let notificationRouter: S3NotificationRouter | undefined;
    const pendingS3Events: unknown[] = [];
    const onS3Event = (event: unknown) => {
      if (notificationRouter) dispatchS3Event(notificationRouter, event);
      else pendingS3Events.push(event);
    };

    const functionsByArn = new Map<string, LocalFunction>();
    const [s3, dynamodb, kinesis, mail, sqsServer, kinesisVideo] = await Promise.all([
      startS3(path.join(dataDir, 's3'), onS3Event),
      startDynamoDb(path.join(dataDir, 'dynamodb')),
      startKinesis(path.join(dataDir, 'kinesis')),
      startMailCatcher(root, path.join(dataDir, 'mail'), mailPort, warn),
      startSqsServer({ dataDir: path.join(dataDir, 'sqs'), region, accountId: LOCAL_ACCOUNT_ID }),
      startKinesisVideoServer({ dataDir: path.join(dataDir, 'kinesis-video'), region, host: endpointHost }),
    ]);
    const running: Running[] = [s3, dynamodb, kinesis, mail, sqsServer, kinesisVideo];
    closers.push(...running.map((r) => () => r.close()));

    const credentials = { ...LOCAL_CREDENTIALS };
    const clientConfig = {
      region,
      endpoint,
      credentials,
      requestHandler: new NodeHttpHandler({ connectionTimeout: 3_000, requestTimeout: 30_000 }),
    };
    const sqsClient = new SQSClient(clientConfig);
    const snsClient = new SNSClient(clientConfig);

    const sns = await startSnsServer({
      dataDir: path.join(dataDir, 'sns'),
      outboxDir: path.join(dataDir, 'outbox'),
      region,
      accountId: LOCAL_ACCOUNT_ID,
      smtp: mail.smtp,
      onSms: (phone, message) => info(`[sms → ${phone}] ${message}`),
      onError: (e) => warn(`sns delivery: ${e instanceof Error ? e.message : String(e)}`),
      deliver: (subscription, body) => deliverSubscription(subscription, body),
    });
    closers.push(() => sns.close());

    // The face models load in the background (packaging, resources and the first requests overlap with it);
    // a face request that comes first waits for them.
    const rekognition = await startRekognitionServer({ dataDir: path.join(dataDir, 'rekognition'), s3Endpoint: s3.url, region, host: endpointHost, warmUp: false });
    closers.push(() => rekognition.close());
    const modelsLoading = Date.now();
    rekognition.service.warmUp().then(
      () => debug(`face models loaded in ${Date.now() - modelsLoading} ms`),
      (e) => warn(`the face models failed to load: ${e instanceof Error ? e.message : String(e)}`),
    );

    for (const [name, backend] of Object.entries({ s3, dynamodb, kinesis, sns, sqs: sqsServer, rekognition, kinesisvideo: kinesisVideo })) {
      gateway.setService(name, backend.url);
    }
    debug(`services up in ${Date.now() - started} ms: ${[s3, dynamodb, kinesis, sns, sqsServer, rekognition, kinesisVideo].map((r) => r.url).join(' ')}`);

    async function deliverSubscription(subscription: Subscription, body: string): Promise<void> {
      if (subscription.protocol === 'sqs') {
        const queueName = subscription.endpoint.split(':').pop()!;
        const { QueueUrl } = await sqsClient.send(new GetQueueUrlCommand({ QueueName: queueName }));
        await sqsClient.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
      } else if (subscription.protocol === 'lambda') {
        const fn = functionsByArn.get(subscription.endpoint);
        if (!fn) throw new Error(`SNS subscription ${subscription.arn} names ${subscription.endpoint}, which is not a function of the stack`);
        void fn.invoke({
          Records: [{ EventSource: 'aws:sns', EventVersion: '1.0', EventSubscriptionArn: subscription.arn, Sns: JSON.parse(body) }],
        });
      } else {
        throw new Error(`protocol ${subscription.protocol} is not delivered by the local stack`);
      }
    }

    const packaged = await packaging;
    debug(`${packaged.cached ? 'reused the package' : 'packaged'} in ${packaged.buildDir}`);
    const template = JSON.parse(fs.readFileSync(packaged.templateFile, 'utf8')) as CfnTemplate;
    options.transformTemplate?.(template);
    const stackName = `${packaged.serviceName}-${LOCAL_STAGE}`;
    const cfn = new EvaluatedTemplate(template, { stackName, region, accountId: LOCAL_ACCOUNT_ID });

    // 3. Create every resource of the template, in dependency order.
    const s3Client = new S3Client({ ...clientConfig, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    const dynamoClient = new DynamoDBClient(clientConfig);
    const kinesisClient = new KinesisClient(clientConfig);
    const rekognitionClient = new RekognitionClient(clientConfig);
    const videoClient = new KinesisVideoClient(clientConfig);
    // A managed stream processor started on the twin analyses its video with the self processor's code, so
    // `processorMode: managed` behaves as on AWS. Like AWS's, it keeps no snapshots.
    rekognition.service.setRunner(
      managedProcessorRunner({
        clients: {
          kinesisVideo: videoClient,
          archivedMediaAt: (dataEndpoint) => new KinesisVideoArchivedMediaClient({ ...clientConfig, endpoint: dataEndpoint }),
          rekognition: rekognitionClient,
          kinesis: kinesisClient,
        },
        // Video streams are named <service>-<stage>-<camera> (resources/cameras.js).
        cameraOf: (videoStream) => (videoStream.startsWith(`${stackName}-`) ? videoStream.slice(stackName.length + 1) : videoStream),
        logger: { info: (message) => debug(`processor: ${message}`), warn: (message) => warn(`processor: ${message}`) },
      }),
    );

    const ttlTables: TtlTable[] = [];
    const definitions: FunctionDefinition[] = [];
    const notificationsByBucket = new Map<string, LambdaNotification[]>();
    const mappings: string[] = [];
    const scheduleRules: string[] = [];
    /** Function name → destination ARN of its failed asynchronous events (AWS::Lambda::EventInvokeConfig). */
    const asyncFailureDestinations = new Map<string, string>();
    const apiParts = { apis: [] as string[], routes: [] as string[], integrations: new Map<string, string>() };
    const stackInfoResources: Record<string, ResourceInfo> = {};
    const functionsDir = path.join(dataDir, 'functions');
    fs.rmSync(functionsDir, { recursive: true, force: true });

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
      const props = cfn.properties(id);
      const attrs = cfn.attributesOf(id);
      switch (resource.Type) {
        case 'AWS::S3::Bucket': {
          await s3Client.send(new CreateBucketCommand({ Bucket: attrs.ref })).catch((e) => {
            if (!isAlreadyThere(e)) throw e;
          });
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
          if (notifications.length) notificationsByBucket.set(attrs.ref, notifications);
          break;
        }
        case 'AWS::DynamoDB::Table': {
          const exists = await dynamoClient.send(new DescribeTableCommand({ TableName: attrs.ref })).then(
            () => true,
            (e) => {
              if ((e as Error).name === 'ResourceNotFoundException') return false;
              throw e;
            },
          );
          if (!exists) {
            const input: CreateTableCommandInput = {
              TableName: attrs.ref,
              AttributeDefinitions: props.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
              KeySchema: props.KeySchema as CreateTableCommandInput['KeySchema'],
              BillingMode: (props.BillingMode as CreateTableCommandInput['BillingMode']) ?? 'PROVISIONED',
            };
            const provisioned = input.BillingMode === 'PROVISIONED';
            const throughput = (p: unknown) => (provisioned ? ((p as CreateTableCommandInput['ProvisionedThroughput']) ?? { ReadCapacityUnits: 5, WriteCapacityUnits: 5 }) : undefined);
            if (provisioned) input.ProvisionedThroughput = throughput(props.ProvisionedThroughput);
            const indexes = (list: unknown) =>
              (list as Record<string, unknown>[] | undefined)?.map((index) => ({
                IndexName: index.IndexName as string,
                KeySchema: index.KeySchema as CreateTableCommandInput['KeySchema'],
                Projection: index.Projection as object,
                ...(provisioned ? { ProvisionedThroughput: throughput(index.ProvisionedThroughput) } : {}),
              }));
            if (props.GlobalSecondaryIndexes) input.GlobalSecondaryIndexes = indexes(props.GlobalSecondaryIndexes);
            if (props.LocalSecondaryIndexes) input.LocalSecondaryIndexes = indexes(props.LocalSecondaryIndexes)?.map(({ IndexName, KeySchema, Projection }) => ({ IndexName, KeySchema, Projection }));
            if (props.StreamSpecification) input.StreamSpecification = { StreamEnabled: true, ...(props.StreamSpecification as object) };
            await dynamoClient.send(new CreateTableCommand(input));
            await waitUntilTableExists({ client: dynamoClient, maxWaitTime: 30, minDelay: 1 }, { TableName: attrs.ref });
          }
          const ttl = props.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
          if (ttl?.Enabled && ttl.AttributeName) {
            ttlTables.push({ tableName: attrs.ref, attributeName: ttl.AttributeName, keyNames: (props.KeySchema as { AttributeName: string }[]).map((k) => k.AttributeName) });
          }
          break;
        }
        case 'AWS::Kinesis::Stream': {
          await kinesisClient.send(new CreateStreamCommand({ StreamName: attrs.ref, ShardCount: Number(props.ShardCount ?? 1) })).catch((e) => {
            if (!isAlreadyThere(e)) throw e;
          });
          for (let i = 0; i < 100; i++) {
            const { StreamDescriptionSummary } = await kinesisClient.send(new DescribeStreamSummaryCommand({ StreamName: attrs.ref }));
            if (StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
            await new Promise((r) => setTimeout(r, 100));
          }
          break;
        }
        case 'AWS::Kinesis::StreamConsumer':
          // An enhanced fan-out consumer: nothing to create in the Kinesis emulator (it has no consumers); a
          // mapping reading through it gets push-like delivery from its poller (step 5).
          break;
        case 'AWS::KinesisVideo::Stream': {
          await videoClient
            .send(
              new CreateVideoStreamCommand({
                StreamName: attrs.ref,
                DataRetentionInHours: props.DataRetentionInHours as number | undefined,
                MediaType: props.MediaType as string | undefined,
                Tags: Object.fromEntries(((props.Tags as { Key: string; Value: string }[]) ?? []).map((t) => [t.Key, t.Value])),
              }),
            )
            .catch((e) => {
              if (!isAlreadyThere(e)) throw e;
            });
          const { StreamInfo } = await videoClient.send(new DescribeVideoStreamCommand({ StreamName: attrs.ref }));
          if (StreamInfo?.StreamARN) cfn.setAttributes(id, { attributes: { Arn: StreamInfo.StreamARN } });
          break;
        }
        case 'AWS::SQS::Queue': {
          const attributeNames = ['DelaySeconds', 'MaximumMessageSize', 'MessageRetentionPeriod', 'ReceiveMessageWaitTimeSeconds', 'VisibilityTimeout', 'RedrivePolicy', 'FifoQueue'];
          const attributes = strings(Object.fromEntries(attributeNames.filter((n) => props[n] !== undefined).map((n) => [n, props[n]])));
          const { QueueUrl } = await sqsClient.send(new CreateQueueCommand({ QueueName: attrs.ref.split('/').pop(), Attributes: attributes }));
          cfn.setAttributes(id, { ref: QueueUrl!, attributes: { QueueUrl: QueueUrl! } });
          break;
        }
        case 'AWS::SNS::Topic': {
          const attributes = strings(Object.fromEntries(['DisplayName', 'KmsMasterKeyId', 'FifoTopic'].filter((n) => props[n] !== undefined).map((n) => [n, props[n]])));
          await snsClient.send(new CreateTopicCommand({ Name: attrs.attributes.TopicName, Attributes: attributes }));
          break;
        }
        case 'AWS::SNS::Subscription': {
          const { SubscriptionArn } = await snsClient.send(
            new SubscribeCommand({
              TopicArn: String(props.TopicArn),
              Protocol: String(props.Protocol),
              Endpoint: String(props.Endpoint),
              Attributes: strings({ ...(props.FilterPolicy ? { FilterPolicy: props.FilterPolicy } : {}), ...(props.FilterPolicyScope ? { FilterPolicyScope: props.FilterPolicyScope } : {}), ...(props.RawMessageDelivery !== undefined ? { RawMessageDelivery: props.RawMessageDelivery } : {}) }),
              ReturnSubscriptionArn: true,
            }),
          );
          if (SubscriptionArn) cfn.setAttributes(id, { ref: SubscriptionArn });
          break;
        }
        case 'AWS::Rekognition::Collection':
          await rekognitionClient.send(new CreateCollectionCommand({ CollectionId: attrs.ref })).catch((e) => {
            if (!isAlreadyThere(e)) throw e;
          });
          break;
        case 'AWS::Rekognition::StreamProcessor': {
          const faceSearch = props.FaceSearchSettings as { CollectionId: string; FaceMatchThreshold?: number } | undefined;
          await rekognitionClient
            .send(
              new CreateStreamProcessorCommand({
                Name: attrs.ref,
                Input: { KinesisVideoStream: { Arn: (props.KinesisVideoStream as { Arn: string }).Arn } },
                Output: { KinesisDataStream: { Arn: (props.KinesisDataStream as { Arn: string }).Arn } },
                RoleArn: String(props.RoleArn),
                Settings: faceSearch ? { FaceSearch: faceSearch } : undefined,
                Tags: Object.fromEntries(((props.Tags as { Key: string; Value: string }[]) ?? []).map((t) => [t.Key, t.Value])),
              }),
            )
            .catch((e) => {
              if (!isAlreadyThere(e)) throw e;
            });
          break;
        }
        case 'AWS::Lambda::Function': {
          const code = props.Code as { S3Key?: string; ZipFile?: string };
          const codeDir = path.join(functionsDir, attrs.ref);
          if (code.S3Key) {
            const zip = path.join(packaged.buildDir, path.basename(code.S3Key));
            if (!fs.existsSync(zip)) throw new Error(`${id}: its bundle ${zip} is missing from the package`);
            extractZip(zip, codeDir);
          } else if (code.ZipFile) {
            fs.mkdirSync(codeDir, { recursive: true });
            fs.writeFileSync(path.join(codeDir, 'index.js'), code.ZipFile);
          }
          definitions.push({
            logicalId: id,
            name: attrs.ref,
            arn: attrs.attributes.Arn,
            handler: String(props.Handler),
            timeoutSeconds: Number(props.Timeout ?? 3),
            memoryMb: Number(props.MemorySize ?? 128),
            environment: strings((props.Environment as { Variables?: Record<string, unknown> })?.Variables),
            codeDir,
          });
          break;
        }
        case 'AWS::Lambda::EventSourceMapping':
          mappings.push(id);
          break;
        case 'AWS::Events::Rule':
          scheduleRules.push(id);
          break;
        case 'AWS::Lambda::EventInvokeConfig': {
          // Where a function's failed asynchronous events go (S3 notifications, after Lambda's two retries).
          const onFailure = (props.DestinationConfig as { OnFailure?: { Destination?: string } } | undefined)?.OnFailure?.Destination;
          if (onFailure) asyncFailureDestinations.set(String(props.FunctionName), onFailure);
          break;
        }
        case 'AWS::ApiGatewayV2::Api':
          apiParts.apis.push(id);
          break;
        case 'AWS::ApiGatewayV2::Integration':
          apiParts.integrations.set(attrs.ref, id);
          break;
        case 'AWS::ApiGatewayV2::Route':
          apiParts.routes.push(id);
          break;
        default:
          warn(`${id} (${resource.Type}): the local stack does not emulate this resource type; skipped`);
          continue;
      }
      const after = cfn.attributesOf(id);
      stackInfoResources[id] = { type: resource.Type, ref: after.ref, attributes: after.attributes };
    }

    // DynamoDB TTL (dynalite has none): expired items removed every ~30 s, straight at dynalite (no injected faults).
    if (ttlTables.length) {
      const sweeper = startTtlSweeper(new DynamoDBClient({ ...clientConfig, endpoint: dynamodb.url }), ttlTables, debug);
      closers.push(() => sweeper.stop());
    }

    // 4. Functions, each in its own process; the API's functions get the hash of the local API token.
    const { token, file: tokenFile } = apiToken(dataDir);
    const apiFunctionArns = new Set(apiParts.routes.map((r) => integrationOf(r)?.functionArn).filter(Boolean) as string[]);
    const logger = fileLogger(path.join(dataDir, 'logs'), options.quiet ? undefined : print);
    closers.push(() => logger.close());
    const baseEnvironment = {
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL: endpoint,
    };
    // IAM: each function signs with a key of its own; the endpoint checks its requests against its role's policy.
    const roleLogicalIdOf = (functionId: string) => {
      const role = template.Resources[functionId]?.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
      return Array.isArray(role?.['Fn::GetAtt']) ? role['Fn::GetAtt'][0] : undefined;
    };
    const identities = identitiesFromTemplate(
      definitions.map((d) => ({ name: d.name, roleLogicalId: roleLogicalIdOf(d.logicalId) })),
      (roleId) => {
        if (!template.Resources[roleId]) return undefined;
        const props = cfn.properties(roleId) as { RoleName?: string; Policies?: { PolicyDocument?: { Statement?: PolicyStatement[] | PolicyStatement } }[] };
        const statements = (props.Policies ?? []).flatMap((p) => {
          const st = p.PolicyDocument?.Statement;
          return st ? (Array.isArray(st) ? st : [st]) : [];
        });
        return { roleName: String(props.RoleName ?? roleId), statements };
      },
      LOCAL_ACCOUNT_ID,
    );
    const videoStreamArns = new Map(
      Object.values(stackInfoResources)
        .filter((r) => r.type === 'AWS::KinesisVideo::Stream' && r.attributes.Arn)
        .map((r) => [r.ref, r.attributes.Arn]),
    );
    gateway.setIdentities(identities, { region, accountId: LOCAL_ACCOUNT_ID, videoStreamArn: (name) => videoStreamArns.get(name) });
    const functions = new Map<string, LocalFunction>();
    for (const definition of definitions) {
      if (apiFunctionArns.has(definition.arn)) definition.environment.API_TOKEN_SHA256 = createHash('sha256').update(token).digest('hex');
      const fn = new LocalFunction(definition, { ...baseEnvironment, AWS_ACCESS_KEY_ID: functionAccessKeyId(definition.name) }, logger);
      functions.set(definition.logicalId, fn);
      functionsByArn.set(definition.arn, fn);
      closers.push(() => fn.stop());
    }
    const lambdaApi = await startLambdaApi({ host: endpointHost, functions: () => [...functions.values()], log: warn });
    closers.push(() => lambdaApi.close());
    gateway.setService('lambda', lambdaApi.url);
    const functionOf = (nameOrArn: string) =>
      functionsByArn.get(nameOrArn) ?? [...functions.values()].find((f) => f.definition.name === nameOrArn || f.definition.logicalId === nameOrArn);

    // 5. Kinesis event source mappings → pollers with the declared settings.
    const eventSources: StackInfo['eventSources'] = [];
    for (const id of mappings) {
      const p = cfn.properties(id);
      const fn = functionOf(String(p.FunctionName));
      const mappedArn = String(p.EventSourceArn);
      // Through an enhanced fan-out consumer (<stream ARN>/consumer/<name>:<time>): AWS pushes each record to the
      // function about 70 ms after it arrives, where a shared-throughput mapping polls the shard once a second.
      const consumer = /^(arn:[^:]+:kinesis:[^:]+:[^:]+:stream\/[^/]+)\/consumer\//.exec(mappedArn);
      const source = consumer ? consumer[1] : mappedArn;
      if (!fn) {
        warn(`${id}: function ${p.FunctionName} is not a function of the stack; skipped`);
        continue;
      }
      if (!source.includes(':kinesis:')) {
        warn(`${id}: event source ${source} is not a Kinesis stream; only Kinesis mappings are wired locally`);
        continue;
      }
      if (p.Enabled === false) {
        debug(`${id}: disabled`);
        continue;
      }
      const settings = {
        batchSize: p.BatchSize as number | undefined,
        maximumBatchingWindow: p.MaximumBatchingWindowInSeconds as number | undefined,
        startingPosition: p.StartingPosition as 'LATEST' | 'TRIM_HORIZON' | 'AT_TIMESTAMP' | undefined,
        startingPositionTimestamp: p.StartingPositionTimestamp as number | undefined,
        maximumRetryAttempts: p.MaximumRetryAttempts as number | undefined,
        maximumRecordAgeInSeconds: p.MaximumRecordAgeInSeconds as number | undefined,
        bisectBatchOnFunctionError: p.BisectBatchOnFunctionError as boolean | undefined,
        functionResponseType: ((p.FunctionResponseTypes as string[] | undefined) ?? []).includes('ReportBatchItemFailures') ? ('ReportBatchItemFailures' as const) : undefined,
      };
      if (p.ParallelizationFactor && p.ParallelizationFactor !== 1) warn(`${id}: ParallelizationFactor ${p.ParallelizationFactor} is not modelled locally (1 batch per shard at a time)`);
      const onFailureArn = (p.DestinationConfig as { OnFailure?: { Destination?: string } } | undefined)?.OnFailure?.Destination;
      let onFailure: ((record: KinesisOnFailureRecord) => Promise<void>) | undefined;
      if (onFailureArn?.includes(':sqs:')) {
        const { QueueUrl } = await sqsClient.send(new GetQueueUrlCommand({ QueueName: onFailureArn.split(':').pop() }));
        onFailure = sqsOnFailureDestination(sqsClient, QueueUrl!);
      } else if (onFailureArn?.includes(':sns:')) {
        onFailure = async (record) => {
          await snsClient.send(new PublishCommand({ TopicArn: onFailureArn, Message: JSON.stringify(record) }));
        };
      } else if (onFailureArn) warn(`${id}: on-failure destination ${onFailureArn} is not wired locally`);
      const discarded = onFailure;
      const poller = new KinesisPoller({
        ...settings,
        client: kinesisClient,
        streamArn: source,
        pollIntervalMs: consumer ? ENHANCED_FAN_OUT_POLL_MS : undefined,
        functionName: fn.definition.name,
        // Its position per shard survives stops and restarts, as a mapping's does on AWS.
        checkpointFile: path.join(dataDir, 'event-source-mappings', `${id}.json`),
        handler: async (event) => {
          const outcome = await fn.invoke(event);
          if (outcome.error) throw Object.assign(new Error(`${outcome.error.errorType}: ${outcome.error.errorMessage}`), { name: outcome.error.errorType });
          return outcome.result;
        },
        onFailure: discarded
          ? async (record) => {
              warn(`${fn.definition.name} gave up on ${record.KinesisBatchInfo.batchSize} record(s) of ${record.KinesisBatchInfo.shardId} (${record.requestContext.condition}); metadata sent to ${onFailureArn}`);
              await discarded(record);
            }
          : undefined,
        onInvoke: (invocation) =>
          debug(`${id}: ${invocation.outcome} for ${invocation.sequenceNumbers.length} record(s) of ${invocation.shardId}${invocation.error ? `: ${String(invocation.error)}` : ''}`),
      });
      poller.start();
      closers.push(() => poller.stop());
      eventSources.push({
        function: fn.definition.logicalId,
        stream: source,
        ...(consumer ? { consumer: mappedArn } : {}),
        settings: JSON.parse(JSON.stringify(settings)),
        ...(onFailureArn ? { onFailure: onFailureArn } : {}),
      });
    }

    // 6. S3 notifications → functions (events that arrived while starting are delivered now).
    const asyncFailureQueues = new Map<string, string>();
    for (const [functionName, destination] of asyncFailureDestinations) {
      if (!destination.includes(':sqs:')) {
        warn(`${functionName}: on-failure destination ${destination} is not wired locally (only SQS queues are)`);
        continue;
      }
      const { QueueUrl } = await sqsClient.send(new GetQueueUrlCommand({ QueueName: destination.split(':').pop() }));
      asyncFailureQueues.set(functionName, QueueUrl!);
    }
    notificationRouter = new S3NotificationRouter(notificationsByBucket, (arn) => functionsByArn.get(arn), region, warn, undefined, (functionArn) => {
      const queueUrl = asyncFailureQueues.get(functionArn.split(':').pop()!);
      return queueUrl ? async (record) => void (await sqsClient.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(record) }))) : undefined;
    });
    const router = notificationRouter;
    for (const event of pendingS3Events.splice(0)) dispatchS3Event(router, event);

    // 7. The HTTP API from the template's routes.
    function integrationOf(routeId: string): { functionArn: string; timeoutMs?: number; payloadFormatVersion?: string } | undefined {
      const target = String(cfn.properties(routeId).Target ?? '');
      const integrationId = apiParts.integrations.get(target.replace(/^integrations\//, ''));
      if (!integrationId) return undefined;
      const p = cfn.properties(integrationId);
      return { functionArn: String(p.IntegrationUri), timeoutMs: p.TimeoutInMillis as number | undefined, payloadFormatVersion: p.PayloadFormatVersion as string | undefined };
    }
    const routes: HttpRoute[] = [];
    const routeInfo: StackInfo['routes'] = [];
    let iamRoutes = 0;
    for (const id of apiParts.routes) {
      const p = cfn.properties(id);
      const integration = integrationOf(id);
      const fn = integration && functionOf(integration.functionArn);
      if (!integration || !fn) {
        warn(`${id}: route ${p.RouteKey} has no Lambda integration of the stack; skipped`);
        continue;
      }
      if (integration.payloadFormatVersion && integration.payloadFormatVersion !== '2.0') warn(`${id}: payload format ${integration.payloadFormatVersion} is served as 2.0 locally`);
      // On AWS the API's callers sign with IAM; locally the handlers check the bearer token instead.
      if (p.AuthorizationType === 'AWS_IAM') iamRoutes += 1;
      else if (p.AuthorizationType && p.AuthorizationType !== 'NONE') warn(`${id}: authorization ${p.AuthorizationType} is not enforced locally`);
      routes.push({ routeKey: String(p.RouteKey), target: fn, timeoutMs: integration.timeoutMs });
      routeInfo.push({ routeKey: String(p.RouteKey), function: fn.definition.logicalId });
    }
    if (iamRoutes) debug(`${iamRoutes} route(s) use AWS_IAM authorization: locally the API token (${path.join(dataDir, 'api-token')}) stands in for it`);
    if (apiParts.apis.length > 1) warn(`the template declares ${apiParts.apis.length} HTTP APIs; their routes are all served on one port`);
    const cors = apiParts.apis.map((id) => cfn.properties(id).CorsConfiguration as CorsConfiguration | undefined).find(Boolean);
    const api = await startHttpApi({ port: apiPort, host: endpointHost, routes, cors, accountId: LOCAL_ACCOUNT_ID, apiId: 'local', log: debug }).catch((e) => {
      if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`Port ${apiPort} (HTTP API) is already in use on 127.0.0.1. Stop what uses it, or choose another port with --api-port <port>.`);
      throw e;
    });
    closers.push(() => api.close());

    // Scheduled rules, as EventBridge runs them (FACEWATCH_SCHEDULE_SECONDS shortens them for tests).
    const schedules = startSchedules({
      rules: scheduleRules.map((id) => ({ logicalId: id, name: cfn.attributesOf(id).ref, arn: cfn.attributesOf(id).attributes.Arn, properties: cfn.properties(id) })),
      targetOf: (arn) => functionsByArn.get(arn),
      region,
      accountId: LOCAL_ACCOUNT_ID,
      debug,
      warn,
    });
    closers.push(() => schedules.stop());

    // 8. stack.json: what a person or a tool needs to talk to the stack.
    const stackInfo: StackInfo = {
      service: packaged.serviceName,
      stage: LOCAL_STAGE,
      region,
      accountId: LOCAL_ACCOUNT_ID,
      endpoint,
      apiUrl: api.url,
      mailUrl: mail.url,
      dataDir,
      tokenFile,
      credentials: {
        ...LOCAL_CREDENTIALS, // not `credentials`: the SDK tags objects it was given with a $source
        region,
        hint: `export AWS_ACCESS_KEY_ID=${credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${credentials.secretAccessKey} AWS_REGION=${region} AWS_DEFAULT_REGION=${region} AWS_ENDPOINT_URL=${endpoint}`,
      },
      resources: stackInfoResources,
      functions: Object.fromEntries(
        definitions.map((d) => [d.logicalId, { name: d.name, arn: d.arn, handler: d.handler, timeoutSeconds: d.timeoutSeconds, memoryMb: d.memoryMb }]),
      ),
      routes: routeInfo,
      eventSources,
      notifications: [...notificationsByBucket].flatMap(([bucket, list]) =>
        list.map((n) => ({ bucket, event: n.event, prefix: n.prefix, suffix: n.suffix, function: functionsByArn.get(n.functionArn)?.definition.logicalId ?? n.functionArn })),
      ),
      subscriptions: sns.subscriptions().map((s) => ({ topic: s.topicArn, protocol: s.protocol, endpoint: s.endpoint })),
      schedules: schedules.schedules,
      startedAt: new Date().toISOString(),
    };
    fs.writeFileSync(path.join(dataDir, 'stack.json'), JSON.stringify(stackInfo, null, 2));
    debug(`ready in ${Date.now() - started} ms`);

    let stopping: Promise<void> | undefined;
    return {
      endpoint,
      apiUrl: api.url,
      mailUrl: mail.url,
      token,
      stackInfo,
      invoke: (functionId, event) => {
        const fn = functions.get(functionId) ?? functionOf(functionId);
        if (!fn) throw new Error(`No function ${functionId} in the stack (functions: ${[...functions.keys()].join(', ')})`);
        return fn.invoke(event);
      },
      notificationsIdle: () => router.idle(),
      usage,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** s3rver's own event → the change it describes (its key is not encoded and its bucket ARN is wrong). */
function dispatchS3Event(router: S3NotificationRouter, event: unknown): void {
  for (const record of (event as { Records?: Record<string, any>[] }).Records ?? []) {
    router.dispatch({
      bucket: record.s3?.bucket?.name,
      key: record.s3?.object?.key,
      eventName: record.eventName,
      size: record.s3?.object?.size,
      eTag: record.s3?.object?.eTag,
      sourceIp: record.requestParameters?.sourceIPAddress,
    });
  }
}
