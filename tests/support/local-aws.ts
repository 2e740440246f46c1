/**
 * Local AWS for integration tests: starts dynalite / kinesalite / s3rver in-process on 127.0.0.1 port 0, points the
 * SDK at them (AWS_ENDPOINT_URL_<SERVICE>, dummy credentials) and creates tables and streams from the SAME
 * definitions the deployment uses: resources/tables.yml (names via serverless.yml's custom.names, keys via
 * shared/tables.json), resources/cameras.js (per-camera streams) and resources/faces-bucket.yml (bucket name).
 */
import fs from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import os from 'node:os';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import YAML from 'yaml';

const ROOT = path.resolve(__dirname, '..', '..');
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

type EmulatorFactory = (options: Record<string, unknown>) => http.Server;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite: EmulatorFactory = require('dynalite');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kinesalite: EmulatorFactory = require('kinesalite');
// s3rver accepts only these credentials (any other key id is refused); dynalite and kinesalite accept any.
const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver: new (options: Record<string, unknown>) => S3rverInstance = require('s3rver');

export interface LocalAws {
  endpoints: { dynamodb?: string; kinesis?: string; s3?: string };
  /** Present when s3 was asked for: path-style, plain (chunk-free) uploads, as s3rver needs. */
  s3?: S3Client;
  dynamodb: DynamoDBClient;
  documents: DynamoDBDocumentClient;
  kinesis: KinesisClient;
  /** Stops the emulators and restores the environment. */
  stop(): Promise<void>;
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Starts the emulators asked for; sets AWS_ENDPOINT_URL_* so SDK clients created afterwards use them. */
export async function startLocalAws(
  services: { dynamodb?: boolean; kinesis?: boolean; s3?: boolean } = { dynamodb: true, kinesis: true },
): Promise<LocalAws> {
  const servers: http.Server[] = [];
  const endpoints: LocalAws['endpoints'] = {};
  let s3rver: S3rverInstance | undefined;
  let s3Directory: string | undefined;
  if (services.s3) {
    s3Directory = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-s3-'));
    s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3Directory });
    const { port } = await s3rver.run();
    endpoints.s3 = `http://127.0.0.1:${port}`;
  }
  const credentials = services.s3 ? S3RVER_CREDENTIALS : CREDENTIALS;
  if (services.dynamodb) {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    servers.push(server);
    endpoints.dynamodb = await listen(server);
  }
  if (services.kinesis) {
    const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
    servers.push(server);
    endpoints.kinesis = await listen(server);
  }

  const saved = { ...process.env };
  Object.assign(process.env, {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    ...(endpoints.dynamodb && { AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb }),
    ...(endpoints.s3 && { AWS_ENDPOINT_URL_S3: endpoints.s3 }),
    ...(endpoints.kinesis && { AWS_ENDPOINT_URL_KINESIS: endpoints.kinesis }),
  });

  const common = { region: LOCAL_REGION, credentials, requestHandler: new NodeHttpHandler(), maxAttempts: 1 };
  const dynamodb = new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb ?? 'http://127.0.0.1:1' });
  const kinesis = new KinesisClient({ ...common, endpoint: endpoints.kinesis ?? 'http://127.0.0.1:1' });
  const s3 = endpoints.s3
    ? new S3Client({ ...common, endpoint: endpoints.s3, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' })
    : undefined;
  return {
    endpoints,
    s3,
    dynamodb,
    documents: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    kinesis,
    async stop() {
      dynamodb.destroy();
      kinesis.destroy();
      s3?.destroy();
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
      if (s3rver) await s3rver.close();
      if (s3Directory) fs.rmSync(s3Directory, { recursive: true, force: true });
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    },
  };
}

// ---- The deployment's own definitions -------------------------------------------------------------------

/** CloudFormation short-form tags, kept as their long form (only names and keys are read here). */
const cfnTags = ['Ref', 'GetAtt', 'Sub', 'Not', 'Equals', 'If', 'Join', 'Select', 'Split', 'And', 'Or', 'Condition', 'ImportValue', 'FindInMap', 'GetAZs', 'Base64', 'Cidr'].flatMap(
  (name) => {
    const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
    return (['scalar', 'seq', 'map'] as const).map((collection) => ({
      tag: `!${name}`,
      collection: collection === 'scalar' ? undefined : collection,
      resolve: (value: unknown) => ({ [key]: (value as { toJSON?: () => unknown })?.toJSON?.() ?? value }),
    }));
  },
);

const parseYaml = (file: string) => YAML.parse(fs.readFileSync(path.join(ROOT, file), 'utf8'), { customTags: cfnTags as never, uniqueKeys: false });

const lookup = (source: unknown, dotted: string): unknown =>
  dotted.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], source);

/** Resolves the serverless variables the resource files use: ${self:...}, ${sls:stage}, ${opt:..., default}, ${param:...}, ${file(...):...}. */
export function serverlessResolver(stage: string, params: Record<string, string> = {}) {
  const service = parseYaml('serverless.yml');
  const defaults = (service.params?.default ?? {}) as Record<string, unknown>;
  const resolve = (text: string): string =>
    text.replace(/\$\{(self|sls|opt|param|file\(([^)]+)\)):([^},]+)(?:,\s*'([^']*)')?\}/g, (whole, kind: string, file: string | undefined, key: string, fallback?: string) => {
      let value: unknown;
      if (kind === 'self') value = lookup(service, key);
      else if (kind === 'sls' && key === 'stage') value = stage;
      else if (kind === 'opt') value = key === 'stage' ? stage : fallback;
      else if (kind === 'param') value = params[key] ?? defaults[key];
      else if (file) value = lookup(file.endsWith('.json') ? JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8')) : parseYaml(file), key);
      if (value === undefined) throw new Error(`Cannot resolve ${whole} for the local resources`);
      return resolve(String(value));
    });
  return resolve;
}

/** Resource files declaring DynamoDB tables. */
export const TABLE_FILES = ['resources/tables.yml', 'resources/processor-state.yml'];

/** CreateTable inputs for every AWS::DynamoDB::Table of the table files (resources/tables.yml and the processor's state table). */
export function tableDefinitions(stage: string, files: readonly string[] = TABLE_FILES): Record<string, CreateTableCommandInput> {
  const resolve = serverlessResolver(stage);
  const resources = Object.assign({}, ...files.map((file) => JSON.parse(resolve(JSON.stringify(parseYaml(file)))).Resources));
  const tables: Record<string, CreateTableCommandInput> = {};
  for (const [logicalId, resource] of Object.entries<{ Type: string; Properties: Record<string, unknown> }>(resources)) {
    if (resource.Type !== 'AWS::DynamoDB::Table') continue;
    const { TableName, AttributeDefinitions, KeySchema, GlobalSecondaryIndexes, BillingMode } = resource.Properties as unknown as CreateTableCommandInput;
    tables[logicalId] = { TableName, AttributeDefinitions, KeySchema, GlobalSecondaryIndexes, BillingMode };
  }
  return tables;
}

/** Creates the tables; answers their names by logical id (PeopleTable, SightingsTable, AlertStateTable, ProcessorStateTable). */
export async function createTables(client: DynamoDBClient, stage: string): Promise<Record<string, string>> {
  const names: Record<string, string> = {};
  for (const [logicalId, input] of Object.entries(tableDefinitions(stage))) {
    await client.send(new CreateTableCommand(input));
    names[logicalId] = input.TableName!;
  }
  return names;
}

export interface CameraStreams {
  camera: string;
  videoStream: string;
  dataStream: string;
  dataStreamArn: string;
}

interface CamerasModule {
  cameraResources(prefix: string, camera: string): { camera: string; videoStream: string; dataStream: string; processor: string; dataStreamLogicalId: string };
  resources(options: { resolveVariable(name: string): Promise<unknown> }): Promise<{ Resources: Record<string, { Properties: Record<string, unknown> }> }>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cameras: CamerasModule = require(path.join(ROOT, 'resources', 'cameras.js'));

const prefix = (stage: string) => `${serverlessResolver(stage)('${self:service}')}-${stage}`;

/** CAMERA_RESOURCES as serverless.yml would set it for these cameras. */
export function cameraResourcesEnv(stage: string, cameraNames: string[]): string {
  const byCamera: Record<string, unknown> = {};
  for (const name of cameraNames) {
    const { videoStream, dataStream, processor } = cameras.cameraResources(prefix(stage), name);
    byCamera[name] = { videoStream, dataStream, processor };
  }
  return JSON.stringify(byCamera);
}

/** Creates each camera's face-search data stream as resources/cameras.js declares it (name, shard count). */
export async function createCameraStreams(client: KinesisClient, stage: string, cameraNames: string[]): Promise<CameraStreams[]> {
  const resolve = serverlessResolver(stage, { cameras: cameraNames.join(',') });
  const { Resources } = await cameras.resources({ resolveVariable: async (name) => resolve(`\${${name}}`) });
  const created: CameraStreams[] = [];
  for (const name of cameraNames) {
    const names = cameras.cameraResources(prefix(stage), name);
    const properties = Resources[names.dataStreamLogicalId].Properties as { Name: string; ShardCount: number };
    await client.send(new CreateStreamCommand({ StreamName: properties.Name, ShardCount: properties.ShardCount }));
    let arn: string | undefined;
    for (let i = 0; i < 50 && !arn; i += 1) {
      const { StreamDescriptionSummary: summary } = await client.send(new DescribeStreamSummaryCommand({ StreamName: properties.Name }));
      if (summary?.StreamStatus === 'ACTIVE') arn = summary.StreamARN;
      else await new Promise((r) => setTimeout(r, 20));
    }
    if (!arn) throw new Error(`Stream ${properties.Name} did not become ACTIVE`);
    created.push({ camera: name, videoStream: names.videoStream, dataStream: properties.Name, dataStreamArn: arn });
  }
  return created;
}

/** The faces bucket's name as resources/faces-bucket.yml declares it, with the local account and region. */
export function facesBucketName(stage: string): string {
  const resolve = serverlessResolver(stage);
  const template = JSON.parse(resolve(JSON.stringify(parseYaml('resources/faces-bucket.yml'))));
  const name = template.Resources.FacesBucket.Properties.BucketName as string | { 'Fn::Sub': string };
  const text = typeof name === 'string' ? name : name['Fn::Sub'];
  return text.replace('${AWS::AccountId}', LOCAL_ACCOUNT).replace('${AWS::Region}', LOCAL_REGION);
}

/** Creates the faces bucket in s3rver; answers its name. */
export async function createFacesBucket(client: S3Client, stage: string): Promise<string> {
  const bucket = facesBucketName(stage);
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}
