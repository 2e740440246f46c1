/**
 * The whole service on 127.0.0.1, as if deployed: packages it for stage `local`, starts the local AWS
 * services behind one endpoint, creates every resource of the compiled template, runs the bundled
 * functions in their own processes and wires their events (S3 notifications, Kinesis event source
 * mappings, HTTP API routes, SNS subscriptions) from the same template.
 *
 * `startLocalStack` is the sequence; each step's work is in a module of its own: the endpoint
 * (endpoint.ts), the resources (provisioners/, one per CloudFormation type), the functions' IAM identities
 * (identities.ts), their event sources (event-sources.ts), the HTTP API (routes.ts) and stack.json
 * (stack-info.ts).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { KinesisVideoArchivedMediaClient } from '@aws-sdk/client-kinesis-video-archived-media';
import { RekognitionClient } from '@aws-sdk/client-rekognition';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startKinesisVideoServer } from '../kinesis-video/server';
import { startRekognitionServer } from '../rekognition/server';
import { functionAccessKeyId } from '../gateway/iam';
import type { UsageMeter } from '../usage/meter';
import { startSnsServer } from '../sns/server';
import { startSqsServer } from '../sqs/server';
import { apiToken } from './api-token';
import { assertPortFree, freePort, startDynamoDb, startKinesis, startMailCatcher, startS3, type Running } from './backends';
import { CONSOLE_PATH } from './console-hosting';
import { allowConsoleOrigin, buildConsole, consoleSite } from './console-site';
import { startEndpoint } from './endpoint';
import { S3EventQueue, s3NotificationRouter, snsDelivery, startEventSourceMappings } from './event-sources';
import { functionIdentities, videoStreamArns } from './identities';
import { endChildren, endLeftovers, releasePidFile, usePidFile } from './lifecycle';
import { fileLogger, LocalFunction } from './functions';
import { startLambdaApi } from './lambda-api';
import { managedProcessorRunner } from './self-processor-runner';
import { packageService } from './package-service';
import { provisionResources } from './provisioners';
import { apiFunctionArns, startRoutes } from './routes';
import { stackLog } from './stack-log';
import { stackInfoOf, writeStackInfo, type StackInfo } from './stack-info';
import { EvaluatedTemplate, LOCAL_ACCOUNT_ID, LOCAL_REGION, type CfnTemplate } from './template';
import { startTtlSweeper } from './ttl-sweeper';
import { startSchedules } from './schedules';
import { projectRoot } from '../project-root';

export { ENHANCED_FAN_OUT_POLL_MS } from './event-sources';
export type { ResourceInfo, StackInfo } from './stack-info';

export const LOCAL_STAGE = 'local';
/** s3rver accepts only this key pair; the other local services accept any, so it is THE local pair. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

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

export interface LocalStack {
  endpoint: string;
  apiUrl: string;
  /** The operator console: open it with `#token=<API token>` (what `npm start` prints). */
  consoleUrl: string;
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
  const log = stackLog(path.join(dataDir, 'logs', 'stack.log'), { print, quiet: options.quiet, verbose: options.verbose });
  const { debug, info, warn } = log;

  const closers: (() => Promise<unknown> | unknown)[] = [];
  const own = (close: () => Promise<unknown> | unknown) => void closers.push(close);
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
    await log.close();
  };

  try {
    const region = LOCAL_REGION;
    const started = Date.now();
    const endpointHost = '127.0.0.1';

    // 1. Package (the slow part) while the services start.
    const packaging = packageService({ root, buildDir: path.join(dataDir, 'build'), stage: LOCAL_STAGE, region, params: options.params, log: debug });

    // 2. The single endpoint first, so every service can be told its public URL.
    const { gateway, usage } = await startEndpoint({ port: gatewayPort, host: endpointHost, debug, warn });
    own(() => gateway.close());
    const endpoint = gateway.url;

    // S3 events wait here until the functions and their notifications exist (step 6).
    const s3Events = new S3EventQueue();
    const functionsByArn = new Map<string, LocalFunction>();
    const functionByArn = (arn: string) => functionsByArn.get(arn);
    const [s3, dynamodb, kinesis, mail, sqsServer, kinesisVideo] = await Promise.all([
      startS3(path.join(dataDir, 's3'), s3Events.onEvent),
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
      deliver: snsDelivery(sqsClient, functionByArn),
    });
    own(() => sns.close());

    // The face models load in the background (packaging, resources and the first requests overlap with it);
    // a face request that comes first waits for them.
    const rekognition = await startRekognitionServer({ dataDir: path.join(dataDir, 'rekognition'), s3Endpoint: s3.url, region, host: endpointHost, warmUp: false });
    own(() => rekognition.close());
    const modelsLoading = Date.now();
    rekognition.service.warmUp().then(
      () => debug(`face models loaded in ${Date.now() - modelsLoading} ms`),
      (e) => warn(`the face models failed to load: ${e instanceof Error ? e.message : String(e)}`),
    );

    for (const [name, backend] of Object.entries({ s3, dynamodb, kinesis, sns, sqs: sqsServer, rekognition, kinesisvideo: kinesisVideo })) {
      gateway.setService(name, backend.url);
    }
    debug(`services up in ${Date.now() - started} ms: ${[s3, dynamodb, kinesis, sns, sqsServer, rekognition, kinesisVideo].map((r) => r.url).join(' ')}`);

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

    // The HTTP API's port is needed before it listens: the console's distribution and CONSOLE_URL name it.
    const apiListenPort = apiPort || (await freePort());
    const localApiUrl = `http://${endpointHost}:${apiListenPort}`;
    const functionsDir = path.join(dataDir, 'functions');
    fs.rmSync(functionsDir, { recursive: true, force: true });
    const provisioned = await provisionResources(cfn, {
      clients: { s3: s3Client, dynamodb: dynamoClient, kinesis: kinesisClient, kinesisVideo: videoClient, sqs: sqsClient, sns: snsClient, rekognition: rekognitionClient },
      buildDir: packaged.buildDir,
      functionsDir,
      warn,
      debug,
      localApiUrl,
    });
    const { definitions, apiParts } = provisioned;

    // DynamoDB TTL (dynalite has none): expired items removed every ~30 s, straight at dynalite (no injected faults).
    if (provisioned.ttlTables.length) {
      const sweeper = startTtlSweeper(new DynamoDBClient({ ...clientConfig, endpoint: dynamodb.url }), provisioned.ttlTables, debug);
      own(() => sweeper.stop());
    }

    // 4. Functions, each in its own process; the API's functions get the hash of the local API token.
    const { token, file: tokenFile } = apiToken(dataDir);
    const apiFunctions = apiFunctionArns(cfn, apiParts);
    const logger = fileLogger(path.join(dataDir, 'logs'), options.quiet ? undefined : print);
    own(() => logger.close());
    const baseEnvironment = {
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL: endpoint,
    };
    // IAM: each function signs with a key of its own; the endpoint checks its requests against its role's policy.
    const streamArns = videoStreamArns(provisioned.resources);
    gateway.setIdentities(functionIdentities(cfn, definitions), { region, accountId: LOCAL_ACCOUNT_ID, videoStreamArn: (name) => streamArns.get(name) });
    const functions = new Map<string, LocalFunction>();
    for (const definition of definitions) {
      if (apiFunctions.has(definition.arn)) definition.environment.API_TOKEN_SHA256 = createHash('sha256').update(token).digest('hex');
      // Links into the console (alert emails) point at the local page, not at a distribution.
      if (definition.environment.CONSOLE_URL !== undefined) definition.environment.CONSOLE_URL = `${localApiUrl}${CONSOLE_PATH}`;
      const fn = new LocalFunction(definition, { ...baseEnvironment, AWS_ACCESS_KEY_ID: functionAccessKeyId(definition.name) }, logger);
      functions.set(definition.logicalId, fn);
      functionsByArn.set(definition.arn, fn);
      own(() => fn.stop());
    }
    const lambdaApi = await startLambdaApi({ host: endpointHost, functions: () => [...functions.values()], log: warn });
    own(() => lambdaApi.close());
    gateway.setService('lambda', lambdaApi.url);
    const functionOf = (nameOrArn: string) =>
      functionsByArn.get(nameOrArn) ?? [...functions.values()].find((f) => f.definition.name === nameOrArn || f.definition.logicalId === nameOrArn);

    // 5. Kinesis event source mappings → pollers with the declared settings.
    const eventSources = await startEventSourceMappings(provisioned.mappings, {
      cfn,
      dataDir,
      clients: { kinesis: kinesisClient, sqs: sqsClient, sns: snsClient },
      functionOf,
      own,
      warn,
      debug,
    });

    // 6. S3 notifications → functions (events that arrived while starting are delivered now).
    const router = await s3NotificationRouter({
      notificationsByBucket: provisioned.notificationsByBucket,
      asyncFailureDestinations: provisioned.asyncFailureDestinations,
      functionByArn,
      region,
      sqs: sqsClient,
      warn,
    });
    s3Events.attach(router);

    // 7. The HTTP API from the template's routes.
    // The operator console, where CloudFront serves it on AWS: /console/ beside the API (console-site.ts).
    const site = consoleSite({ dir: await buildConsole(root, debug), config: { auth: 'token' }, storageOrigin: endpoint });
    const { api, routes } = await startRoutes({ cfn, apiParts, functionOf, port: apiListenPort, host: endpointHost, dataDir, warn, debug, site });
    own(() => api.close());
    for (const [bucket, rules] of provisioned.corsByBucket) await allowConsoleOrigin(s3Client, bucket, rules, new URL(api.url).origin);
    const consoleUrl = `${api.url}${CONSOLE_PATH}`;

    // Scheduled rules, as EventBridge runs them (FACEWATCH_SCHEDULE_SECONDS shortens them for tests).
    const schedules = startSchedules({
      rules: provisioned.scheduleRules.map((id) => ({ logicalId: id, name: cfn.attributesOf(id).ref, arn: cfn.attributesOf(id).attributes.Arn, properties: cfn.properties(id) })),
      targetOf: (arn) => functionsByArn.get(arn),
      region,
      accountId: LOCAL_ACCOUNT_ID,
      debug,
      warn,
    });
    own(() => schedules.stop());

    // 8. stack.json: what a person or a tool needs to talk to the stack.
    const stackInfo = stackInfoOf({
      service: packaged.serviceName,
      stage: LOCAL_STAGE,
      region,
      endpoint,
      apiUrl: api.url,
      consoleUrl,
      mailUrl: mail.url,
      dataDir,
      tokenFile,
      credentials: LOCAL_CREDENTIALS,
      resources: provisioned.resources,
      definitions,
      routes,
      eventSources,
      notificationsByBucket: provisioned.notificationsByBucket,
      functionByArn,
      subscriptions: sns.subscriptions(),
      schedules: schedules.schedules,
    });
    writeStackInfo(dataDir, stackInfo);
    debug(`ready in ${Date.now() - started} ms`);

    let stopping: Promise<void> | undefined;
    return {
      endpoint,
      apiUrl: api.url,
      consoleUrl,
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
