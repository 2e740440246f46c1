/** resources/console-deploy.js: after a deploy, console/dist and a generated config.json go to the bucket, then /console/* is invalidated. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

const ConsoleDeploy = require('../../../resources/console-deploy') as {
  new (serverless: unknown, options: unknown, utils: unknown): { hooks: Record<string, () => Promise<void>> };
  publishConsole(options: Record<string, unknown>): Promise<any>;
  consoleConfig(outputs: Record<string, string>, region: string): unknown;
  cacheControlOf(file: string): string;
  contentTypeOf(file: string): string;
};
const { publishConsole, consoleConfig, cacheControlOf, contentTypeOf } = ConsoleDeploy;

const outputs = {
  ConsoleUrl: 'https://d111111abcdef8.cloudfront.net/console/',
  UserPoolId: 'eu-west-1_AbCdEfGhI',
  ConsoleClientId: '1example23456789',
  ConsoleLoginDomain: 'https://facewatch-prod-123456789012.auth.eu-west-1.amazoncognito.com',
  ConsoleBucketName: 'facewatch-prod-console-123456789012-eu-west-1',
  ConsoleDistributionId: 'E2QWRUHEXAMPLE',
};

const s3 = mockClient(S3Client);
const cloudfront = mockClient(CloudFrontClient);
const cloudFormation = mockClient(CloudFormationClient);
let distDir: string;

beforeEach(() => {
  s3.reset();
  cloudfront.reset();
  cloudFormation.reset();
  distDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-console-dist-'));
});
afterEach(() => fs.rmSync(distDir, { recursive: true, force: true }));

const write = (relative: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(distDir, relative)), { recursive: true });
  fs.writeFileSync(path.join(distDir, relative), text);
};
const publish = (log: (line: string) => void = () => undefined) =>
  publishConsole({ distDir, outputs, region: 'eu-west-1', s3: new S3Client({ region: 'eu-west-1' }), cloudfront: new CloudFrontClient({ region: 'us-east-1' }), log, now: () => 1767225600000 });

describe('publishConsole', () => {
  it('uploads the build under console/, assets first and pages last, with the generated config.json, removes old files and invalidates /console/*', async () => {
    write('index.html', '<!doctype html><script src="./assets/index-abc123.js"></script>');
    write('assets/index-abc123.js', 'console.log(1)');
    write('assets/index-abc123.css', 'body{}');
    // a config.json of the local build is replaced by the one for this deployment
    write('config.json', '{"auth":"token"}');
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'console/index.html' }, { Key: 'console/assets/index-old999.js' }], IsTruncated: false });
    s3.on(PutObjectCommand).resolves({});
    s3.on(DeleteObjectsCommand).resolves({});
    cloudfront.on(CreateInvalidationCommand).resolves({ Invalidation: { Id: 'I2J0I21PCUYOIK', Status: 'InProgress', CreateTime: new Date(), InvalidationBatch: undefined } });

    const result = await publish();

    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts.map((p) => p.Key)).toEqual(['console/assets/index-abc123.css', 'console/assets/index-abc123.js', 'console/config.json', 'console/index.html']);
    for (const put of puts) expect(put.Bucket).toBe(outputs.ConsoleBucketName);
    const byKey = Object.fromEntries(puts.map((p) => [p.Key, p]));
    expect(byKey['console/index.html']).toMatchObject({ ContentType: 'text/html; charset=utf-8', CacheControl: 'no-cache' });
    expect(byKey['console/assets/index-abc123.js']).toMatchObject({ ContentType: 'text/javascript; charset=utf-8', CacheControl: 'public, max-age=31536000, immutable' });
    expect(byKey['console/config.json']).toMatchObject({ ContentType: 'application/json', CacheControl: 'no-cache' });
    expect(JSON.parse(String(byKey['console/config.json'].Body))).toEqual({
      auth: 'cognito',
      region: 'eu-west-1',
      userPoolId: outputs.UserPoolId,
      clientId: outputs.ConsoleClientId,
      domain: outputs.ConsoleLoginDomain,
    });

    expect(s3.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: outputs.ConsoleBucketName, Delete: { Objects: [{ Key: 'console/assets/index-old999.js' }], Quiet: true } },
    ]);
    expect(cloudfront.commandCalls(CreateInvalidationCommand).map((c) => c.args[0].input)).toEqual([
      { DistributionId: outputs.ConsoleDistributionId, InvalidationBatch: { CallerReference: 'facewatch-console-1767225600000', Paths: { Quantity: 1, Items: ['/console/*'] } } },
    ]);
    expect(result).toMatchObject({ deleted: ['console/assets/index-old999.js'], invalidationId: 'I2J0I21PCUYOIK' });
  });

  it('says so and skips when the console is not built (no console/dist/index.html)', async () => {
    const lines: string[] = [];
    const result = await publish((line) => lines.push(line));
    expect(result.skipped).toContain('npm run console:build');
    expect(lines.join('\n')).toContain('skipped');
    expect(s3.calls()).toHaveLength(0);
    expect(cloudfront.calls()).toHaveLength(0);
  });

  it('refuses a stack without the console outputs', async () => {
    write('index.html', '<!doctype html>');
    await expect(publishConsole({ distDir, outputs: {}, region: 'eu-west-1', s3: new S3Client({}), cloudfront: new CloudFrontClient({}) })).rejects.toThrow(/ConsoleBucketName/);
    expect(() => consoleConfig({ ...outputs, ConsoleClientId: '' }, 'eu-west-1')).toThrow(/ConsoleClientId/);
  });
});

describe('the ConsoleDeploy plugin (osls hooks)', () => {
  let serviceDir: string;
  const notices: string[] = [];
  const plugin = () =>
    new ConsoleDeploy(
      {
        serviceDir,
        getProvider: () => ({
          getRegion: () => 'eu-west-1',
          naming: { getStackName: () => 'facewatch-prod' },
          getAwsSdkV3Config: async () => ({ region: 'eu-west-1' }),
          getCloudFormationClient: async () => new CloudFormationClient({ region: 'eu-west-1' }),
        }),
      },
      {},
      { log: { notice: (line: string) => notices.push(line), warning: (line: string) => notices.push(`! ${line}`), verbose: () => undefined } },
    );
  const stack = (protectedFromDeletion = false) =>
    cloudFormation.on(DescribeStacksCommand, { StackName: 'facewatch-prod' }).resolves({
      Stacks: [
        {
          StackName: 'facewatch-prod',
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date(),
          EnableTerminationProtection: protectedFromDeletion,
          Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
        },
      ],
    });

  beforeEach(() => {
    serviceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-service-'));
    notices.length = 0;
  });
  afterEach(() => fs.rmSync(serviceDir, { recursive: true, force: true }));

  it('after a deploy, uploads <service>/console/dist with the stack\'s outputs and prints the console URL', async () => {
    fs.mkdirSync(path.join(serviceDir, 'console', 'dist'), { recursive: true });
    fs.writeFileSync(path.join(serviceDir, 'console', 'dist', 'index.html'), '<!doctype html>');
    stack();
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(PutObjectCommand).resolves({});
    cloudfront.on(CreateInvalidationCommand).resolves({ Invalidation: { Id: 'I1', Status: 'InProgress', CreateTime: new Date(), InvalidationBatch: undefined } });

    await plugin().hooks['after:deploy:deploy']();

    expect(s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key)).toEqual(['console/config.json', 'console/index.html']);
    expect(notices).toEqual([`Console: ${outputs.ConsoleUrl} (2 files uploaded, /console/* invalidated)`]);
  });

  it('without a build, warns and uploads nothing', async () => {
    stack();
    await plugin().hooks['after:deploy:deploy']();
    expect(notices).toEqual([expect.stringMatching(/^! .*npm run console:build/)]);
    expect(s3.calls()).toHaveLength(0);
  });

  it('before a removal, empties the console bucket (CloudFormation cannot delete a bucket with objects), unless the stack is protected', async () => {
    stack();
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'console/index.html' }, { Key: 'console/config.json' }] });
    s3.on(DeleteObjectsCommand).resolves({});
    await plugin().hooks['before:remove:remove']();
    expect(s3.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input.Delete?.Objects)).toEqual([[{ Key: 'console/index.html' }, { Key: 'console/config.json' }]]);

    s3.reset();
    cloudFormation.reset();
    stack(true);
    await plugin().hooks['before:remove:remove']();
    expect(s3.calls()).toHaveLength(0);
  });

  it('does nothing before removing a stack that does not exist', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(new Error('Stack with id facewatch-prod does not exist'));
    await plugin().hooks['before:remove:remove']();
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('what each file is served as', () => {
  it.each([
    ['index.html', 'text/html; charset=utf-8'],
    ['assets/a.woff2', 'font/woff2'],
    ['favicon.svg', 'image/svg+xml'],
    ['unknown.bin', 'application/octet-stream'],
  ])('%s is %s', (file, type) => expect(contentTypeOf(file)).toBe(type));

  it('caches only the hashed assets for long', () => {
    expect(cacheControlOf('assets/index-abc123.js')).toContain('immutable');
    expect(cacheControlOf('index.html')).toBe('no-cache');
    expect(cacheControlOf('config.json')).toBe('no-cache');
  });
});
