'use strict';
/**
 * After `osls deploy`: puts the operator console in its bucket and makes CloudFront serve the new files.
 *
 * 1. Reads the stack's outputs (ConsoleBucketName, ConsoleDistributionId, UserPoolId, ConsoleClientId,
 *    ConsoleLoginDomain; resources/console.yml).
 * 2. Uploads console/dist/** (built by `npm run console:build`) under console/ of the bucket — hashed assets first,
 *    then console/config.json (generated here: {"auth":"cognito", region, userPoolId, clientId, domain}), then the
 *    pages —, and deletes what the previous upload left that this one does not have.
 * 3. Invalidates /console/* so the edges fetch the new files.
 * Without console/dist it says so and skips (the stack itself is deployed either way).
 *
 * `osls remove` empties the bucket first (it holds only these generated files), or CloudFormation could not delete it.
 * The deploying credentials need s3:PutObject, s3:ListBucket and s3:DeleteObject on the console bucket and
 * cloudfront:CreateInvalidation on the distribution (docs/deploy.md).
 */
const fs = require('node:fs');
const path = require('node:path');

const PREFIX = 'console/';

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const contentTypeOf = (file) => CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';

/** Vite's hashed assets never change under their name; pages and config.json must be fetched fresh. */
const cacheControlOf = (relative) => (/^assets\//.test(relative) ? 'public, max-age=31536000, immutable' : 'no-cache');

/** Every file under dir, as forward-slash paths relative to it, sorted. */
function filesUnder(dir) {
  const out = [];
  const walk = (folder) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(path.relative(dir, full).split(path.sep).join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/** What the page reads at /console/config.json on AWS (the contract with console/). */
function consoleConfig(outputs, region) {
  for (const name of ['UserPoolId', 'ConsoleClientId', 'ConsoleLoginDomain']) {
    if (!outputs[name]) throw new Error(`console deploy: the stack has no ${name} output`);
  }
  return { auth: 'cognito', region, userPoolId: outputs.UserPoolId, clientId: outputs.ConsoleClientId, domain: outputs.ConsoleLoginDomain };
}

/** Keys under console/ in the bucket. */
async function listConsoleKeys(s3, bucket) {
  const { ListObjectsV2Command } = require('@aws-sdk/client-s3');
  const keys = [];
  let ContinuationToken;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: PREFIX, ContinuationToken }));
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return keys;
}

async function deleteKeys(s3, bucket, keys) {
  const { DeleteObjectsCommand } = require('@aws-sdk/client-s3');
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    const { Errors } = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
    if (Errors?.length) throw new Error(`console deploy: could not delete ${Errors.map((e) => `${e.Key} (${e.Code})`).join(', ')}`);
  }
}

/**
 * Uploads the console and invalidates it. Answers what it did, or { skipped } when there is nothing built.
 * `s3` and `cloudfront` are AWS SDK v3 clients (S3Client, CloudFrontClient).
 */
async function publishConsole({ distDir, outputs, region, s3, cloudfront, log = () => undefined, now = Date.now }) {
  if (!fs.existsSync(path.join(distDir, 'index.html'))) {
    const reason = `${distDir} has no index.html: build the console with \`npm run console:build\` and deploy again; the console upload is skipped`;
    log(reason);
    return { skipped: reason };
  }
  const bucket = outputs.ConsoleBucketName;
  const distributionId = outputs.ConsoleDistributionId;
  if (!bucket || !distributionId) throw new Error('console deploy: the stack has no ConsoleBucketName or ConsoleDistributionId output');
  const config = consoleConfig(outputs, region);
  const { PutObjectCommand } = require('@aws-sdk/client-s3');
  const { CreateInvalidationCommand } = require('@aws-sdk/client-cloudfront');

  const before = await listConsoleKeys(s3, bucket);
  // Assets first, then config.json, then the pages: a page never references a file that is not there yet.
  const files = filesUnder(distDir).filter((f) => f !== 'config.json');
  const isPage = (f) => f.endsWith('.html');
  const ordered = [...files.filter((f) => !isPage(f)), 'config.json', ...files.filter(isPage)];
  for (const relative of ordered) {
    const generated = relative === 'config.json';
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${PREFIX}${relative}`,
        Body: generated ? `${JSON.stringify(config, null, 2)}\n` : fs.readFileSync(path.join(distDir, ...relative.split('/'))),
        ContentType: contentTypeOf(relative),
        CacheControl: cacheControlOf(relative),
      }),
    );
  }
  const uploaded = new Set(ordered.map((f) => `${PREFIX}${f}`));
  const stale = before.filter((key) => !uploaded.has(key));
  if (stale.length) await deleteKeys(s3, bucket, stale);

  const { Invalidation } = await cloudfront.send(
    new CreateInvalidationCommand({
      DistributionId: distributionId,
      InvalidationBatch: { CallerReference: `facewatch-console-${now()}`, Paths: { Quantity: 1, Items: [`/${PREFIX}*`] } },
    }),
  );
  log(`console: ${ordered.length} file(s) uploaded to s3://${bucket}/${PREFIX}, ${stale.length} old one(s) removed, /${PREFIX}* invalidated (${Invalidation?.Id ?? 'no id'})`);
  return { uploaded: ordered.map((f) => `${PREFIX}${f}`), deleted: stale, invalidationId: Invalidation?.Id, config };
}

/**
 * The stack's outputs as { OutputKey: OutputValue } (and whether it is protected from deletion, as
 * `terminationProtected`); undefined when the stack does not exist.
 */
async function stackOutputs(cloudFormation, stackName) {
  const { DescribeStacksCommand } = require('@aws-sdk/client-cloudformation');
  try {
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs = Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    return Object.defineProperty(outputs, 'terminationProtected', { value: Stacks?.[0]?.EnableTerminationProtection === true });
  } catch (error) {
    if (/does not exist/.test(String(error?.message))) return undefined;
    throw error;
  }
}

class ConsoleDeploy {
  constructor(serverless, _options, utils) {
    this.serverless = serverless;
    this.log = utils?.log;
    this.hooks = {
      'after:deploy:deploy': () => this.deploy(),
      'before:remove:remove': () => this.empty(),
    };
  }

  async clients() {
    const provider = this.serverless.getProvider('aws');
    const { S3Client } = require('@aws-sdk/client-s3');
    const { CloudFrontClient } = require('@aws-sdk/client-cloudfront');
    const config = await provider.getAwsSdkV3Config();
    return {
      provider,
      region: provider.getRegion(),
      outputs: await stackOutputs(await provider.getCloudFormationClient(), provider.naming.getStackName()),
      s3: new S3Client(config),
      // CloudFront's API has one endpoint (us-east-1) whatever the stack's region.
      cloudfront: new CloudFrontClient({ ...config, region: 'us-east-1' }),
    };
  }

  async deploy() {
    const { region, outputs, s3, cloudfront } = await this.clients();
    if (!outputs) throw new Error('console deploy: the stack was not found after the deploy');
    const distDir = path.join(this.serverless.serviceDir, 'console', 'dist');
    const result = await publishConsole({ distDir, outputs, region, s3, cloudfront, log: (line) => this.log?.verbose?.(line) });
    if (result.skipped) (this.log?.warning ?? console.warn)(result.skipped);
    else (this.log?.notice ?? console.log)(`Console: ${outputs.ConsoleUrl} (${result.uploaded.length} files uploaded, /console/* invalidated)`);
  }

  async empty() {
    const { outputs, s3 } = await this.clients();
    // A protected stack will not be removed: keep its console online.
    if (!outputs?.ConsoleBucketName || outputs.terminationProtected) return;
    const keys = await listConsoleKeys(s3, outputs.ConsoleBucketName);
    if (keys.length) await deleteKeys(s3, outputs.ConsoleBucketName, keys);
    this.log?.verbose?.(`console: ${keys.length} file(s) removed from s3://${outputs.ConsoleBucketName}/ before the stack's removal`);
  }
}

module.exports = ConsoleDeploy;
Object.assign(module.exports, { publishConsole, consoleConfig, contentTypeOf, cacheControlOf, stackOutputs, filesUnder });
