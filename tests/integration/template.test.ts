/**
 * Packages the service (`osls package`, offline, no AWS credentials) and walks the generated CloudFormation
 * template: every resource exists with encryption on, and each function's role allows only what it calls.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, '../..');
const CAMERAS = ['front-door', 'garage'];
/** What packaging reads. Copied so this run never shares serverless-esbuild's work folder with another. */
const INPUTS = ['serverless.yml', 'package.json', 'package-lock.json', 'tsconfig.json', 'functions', 'shared', 'resources', 'local', 'bin'];

type Resource = { Type: string; Condition?: string; DependsOn?: unknown; Properties: Record<string, any> };
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}
let template: { Resources: Record<string, Resource>; Conditions: Record<string, unknown> };
let resources: Record<string, Resource>;
let workDir: string;

async function packageService(cwd: string, outDir: string): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', FORCE_COLOR: '0' };
  // Proves packaging needs no AWS credentials (the CA bundle is not a credential).
  for (const key of Object.keys(env)) if (key.startsWith('AWS_') && key !== 'AWS_CA_BUNDLE') delete env[key];
  const args = [path.join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--stage', 'ci', `--param=cameras=${CAMERAS.join(',')}`, '--package', outDir];
  const output: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 200_000);
    child.on('error', reject);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c ?? 1);
    });
  });
  if (code !== 0) throw new Error(`osls package failed (exit ${code}):\n${output.join('')}`);
}

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-package-'));
  const service = path.join(workDir, 'service');
  fs.mkdirSync(service);
  for (const input of INPUTS) {
    if (fs.existsSync(path.join(ROOT, input))) fs.cpSync(path.join(ROOT, input), path.join(service, input), { recursive: true });
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(service, 'node_modules'), 'dir');
  const outDir = path.join(workDir, 'out');
  await packageService(service, outDir);
  template = JSON.parse(fs.readFileSync(path.join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'));
  resources = template.Resources;
});
afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const pascal = (name: string) => name[0].toUpperCase() + name.slice(1);

/** The statements of a function's own role, without the log-writing ones every function gets. */
function statementsOf(functionName: string): Statement[] {
  const fn = resources[`${pascal(functionName)}LambdaFunction`];
  expect(fn).toBeDefined();
  const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
  expect(roleId).toBe(`${pascal(functionName)}IamRoleLambdaExecution`);
  const statements: Statement[] = resources[roleId].Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
  return statements.filter((s) => !actions(s).every((a) => a.startsWith('logs:')));
}
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const actionsOf = (functionName: string) => statementsOf(functionName).flatMap(actions).sort();
/** action -> resources it is granted on, as JSON strings (Fn::GetAtt / Fn::Sub kept symbolic). */
function grants(functionName: string): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const s of statementsOf(functionName)) {
    const targets = (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map((r) => JSON.stringify(r));
    for (const a of actions(s)) result[a] = [...(result[a] ?? []), ...targets].sort();
  }
  return result;
}
const getAtt = (id: string, attribute = 'Arn') => JSON.stringify({ 'Fn::GetAtt': [id, attribute] });
const index = (table: string, name: string) => JSON.stringify({ 'Fn::Sub': `\${${table}.Arn}/index/${name}` });
const collectionArn = JSON.stringify({ 'Fn::Sub': 'arn:${AWS::Partition}:rekognition:${AWS::Region}:${AWS::AccountId}:collection/${FaceCollection}' });
const bucketName = 'facewatch-ci-faces-${AWS::AccountId}-${AWS::Region}';
const processorArn = (camera: string) => JSON.stringify({ 'Fn::Sub': `arn:\${AWS::Partition}:rekognition:\${AWS::Region}:\${AWS::AccountId}:streamprocessor/facewatch-ci-${camera}` });

describe('the packaged template: resources of the foundation', () => {
  it('has a private, encrypted faces bucket that notifies the indexer on create and delete under faces/', () => {
    const bucket = resources.FacesBucket.Properties;
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toMatch(/AES256|aws:kms/);
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    const notifications = bucket.NotificationConfiguration.LambdaConfigurations;
    expect(notifications.map((n: any) => n.Event).sort()).toEqual(['s3:ObjectCreated:*', 's3:ObjectRemoved:*']);
    for (const n of notifications) {
      expect(n.Function).toEqual({ 'Fn::GetAtt': ['IndexFaceLambdaFunction', 'Arn'] });
      expect(n.Filter.S3Key.Rules).toEqual([{ Name: 'prefix', Value: 'faces/' }]);
    }
    const deny = resources.FacesBucketPolicy.Properties.PolicyDocument.Statement.find((s: any) => s.Effect === 'Deny');
    expect(deny.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
  });

  it('has the collection, and per camera a video stream, an encrypted data stream and a managed processor', () => {
    expect(ofType('AWS::Rekognition::Collection')).toHaveLength(1);
    expect(ofType('AWS::KinesisVideo::Stream')).toHaveLength(CAMERAS.length);
    const dataStreams = ofType('AWS::Kinesis::Stream');
    expect(dataStreams).toHaveLength(CAMERAS.length);
    for (const [, stream] of dataStreams) expect(stream.Properties.StreamEncryption).toEqual({ EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' });
    const processors = ofType('AWS::Rekognition::StreamProcessor');
    expect(processors).toHaveLength(CAMERAS.length);
    for (const [, processor] of processors) {
      expect(processor.Condition).toBe('IsManagedProcessor');
      expect(processor.Properties.FaceSearchSettings).toEqual({ CollectionId: { Ref: 'FaceCollection' }, FaceMatchThreshold: 85.5 });
    }
    // `self` is the default mode (new accounts cannot use the managed one): the managed processors stay declared, off.
    expect(template.Conditions.IsManagedProcessor).toEqual({ 'Fn::Equals': ['self', 'managed'] });
  });

  it('lets the processor role do exactly PutRecord(s) on the data streams and GetDataEndpoint/GetMedia on the video streams', () => {
    const role = resources.StreamProcessorRole;
    expect(role.Condition).toBe('IsManagedProcessor');
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'rekognition.amazonaws.com' });
    const statements: Statement[] = role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    const byAction = Object.fromEntries(statements.flatMap((s) => actions(s).map((a) => [a, s.Resource])));
    expect(Object.keys(byAction).sort()).toEqual(['kinesis:PutRecord', 'kinesis:PutRecords', 'kinesisvideo:GetDataEndpoint', 'kinesisvideo:GetMedia']);
    expect(byAction['kinesis:PutRecords']).toEqual(ofType('AWS::Kinesis::Stream').map(([id]) => ({ 'Fn::GetAtt': [id, 'Arn'] })));
    expect(byAction['kinesisvideo:GetMedia']).toEqual(ofType('AWS::KinesisVideo::Stream').map(([id]) => ({ 'Fn::GetAtt': [id, 'Arn'] })));
  });

  it('has on-demand, encrypted tables with point-in-time recovery, and TTL where data expires', () => {
    const tables = ofType('AWS::DynamoDB::Table');
    expect(tables.map(([id]) => id).sort()).toEqual(expect.arrayContaining(['AlertStateTable', 'PeopleTable', 'SightingsTable']));
    for (const [, table] of tables) {
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    }
    expect(resources.SightingsTable.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(resources.AlertStateTable.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(resources.SightingsTable.Properties.GlobalSecondaryIndexes.map((i: any) => i.IndexName).sort()).toEqual(['byCamera', 'byDay', 'byPerson']);
  });

  it('has an encrypted alert topic with optional subscriptions, and an encrypted dead-letter queue', () => {
    expect(resources.AlertTopic.Properties.KmsMasterKeyId).toBe('alias/aws/sns');
    expect(resources.AlertEmailSubscription.Condition).toBe('HasAlertEmail');
    expect(resources.AlertSmsSubscription.Condition).toBe('HasAlertPhone');
    expect(resources.ConsumerDLQ.Properties.SqsManagedSseEnabled).toBe(true);
  });
});

describe('the packaged template: least privilege per function', () => {
  it('gives every function its own role, with no wildcard action', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(9);
    for (const [id, fn] of functions) {
      const roleId = fn.Properties.Role['Fn::GetAtt']?.[0];
      expect({ id, roleId }).toEqual({ id, roleId: id.replace(/LambdaFunction$/, 'IamRoleLambdaExecution') });
      const statements: Statement[] = resources[roleId].Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
      for (const a of statements.flatMap(actions)) expect({ id, action: a }).toEqual({ id, action: expect.not.stringMatching(/\*/) });
    }
  });

  it('indexFace: IndexFaces/DeleteFaces on the collection, GetObject under faces/, item writes on the people table', () => {
    expect(grants('indexFace')).toEqual({
      'rekognition:IndexFaces': [collectionArn],
      'rekognition:DeleteFaces': [collectionArn],
      's3:GetObject': [JSON.stringify({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}/faces/*` })],
      'dynamodb:GetItem': [getAtt('PeopleTable')],
      'dynamodb:PutItem': [getAtt('PeopleTable')],
      'dynamodb:UpdateItem': [getAtt('PeopleTable')],
      'dynamodb:DeleteItem': [getAtt('PeopleTable')],
    });
  });

  it('processor functions: only their own Rekognition calls, on this stage\'s processors', () => {
    const arns = CAMERAS.map(processorArn).sort();
    // and, for the `self` mode, the processor-state table and (start only) the worker
    const state = [getAtt('ProcessorStateTable')];
    expect(grants('startProcessor')).toEqual({
      'rekognition:StartStreamProcessor': arns,
      'rekognition:DescribeStreamProcessor': arns,
      'dynamodb:GetItem': state,
      'dynamodb:UpdateItem': state,
      'lambda:InvokeFunction': [getAtt('ProcessVideoLambdaFunction')],
    });
    expect(grants('stopProcessor')).toEqual({ 'rekognition:StopStreamProcessor': arns, 'rekognition:DescribeStreamProcessor': arns, 'dynamodb:GetItem': state, 'dynamodb:UpdateItem': state });
    expect(grants('describeProcessor')).toEqual({ 'rekognition:DescribeStreamProcessor': arns, 'dynamodb:GetItem': state });
  });

  it('processVideo (self-managed processor): exactly the calls it makes, on this stage\'s resources', () => {
    const videoStreams = CAMERAS.map((c) => getAtt(`VideoStream${c.split('-').map(pascal).join('')}`)).sort();
    const dataStreams = CAMERAS.map((c) => getAtt(`FaceSearchStream${c.split('-').map(pascal).join('')}`)).sort();
    expect(grants('processVideo')).toEqual({
      'dynamodb:UpdateItem': [getAtt('ProcessorStateTable')],
      'kinesisvideo:DescribeStream': videoStreams,
      'kinesisvideo:GetDataEndpoint': videoStreams,
      'kinesisvideo:ListFragments': videoStreams,
      'kinesisvideo:GetImages': videoStreams,
      // DetectFaces accepts no resource but "*"
      'rekognition:DetectFaces': [JSON.stringify('*')],
      'rekognition:SearchFacesByImage': [collectionArn],
      'kinesis:PutRecords': dataStreams,
      's3:PutObject': [JSON.stringify({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}/snapshots/*` })],
      'lambda:InvokeFunction': [JSON.stringify({ 'Fn::Sub': 'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:facewatch-ci-processVideo' })],
    });
    // face snapshots expire with the sightings
    expect(resources.FacesBucket.Properties.LifecycleConfiguration.Rules).toEqual([
      { Id: 'expire-face-snapshots', Status: 'Enabled', Prefix: 'snapshots/', ExpirationInDays: 30 },
    ]);
  });

  it('people readers: queries only; updatePerson adds UpdateItem', () => {
    expect(grants('listPeople')).toEqual({ 'dynamodb:Query': [getAtt('PeopleTable'), index('PeopleTable', 'people')].sort() });
    expect(grants('getPerson')).toEqual({ 'dynamodb:Query': [getAtt('PeopleTable')] });
    expect(actionsOf('updatePerson')).toEqual(['dynamodb:Query', 'dynamodb:UpdateItem']);
  });

  it('listSightings: Query on the three sightings indexes, not the table; reads (presigns) face snapshots only', () => {
    expect(grants('listSightings')).toEqual({
      'dynamodb:Query': [index('SightingsTable', 'byCamera'), index('SightingsTable', 'byDay'), index('SightingsTable', 'byPerson')].sort(),
      's3:GetObject': [JSON.stringify({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}/snapshots/*` })],
    });
  });

  it('consumeFaceSearch: may read face snapshots only (to presign the alert links), and links them only in self mode', () => {
    expect(grants('consumeFaceSearch')['s3:GetObject']).toEqual([JSON.stringify({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}/snapshots/*` })]);
    const variables = (resources.ConsumeFaceSearchLambdaFunction.Properties.Environment.Variables ?? {}) as Record<string, unknown>;
    expect(variables.PROCESSOR_SNAPSHOTS).toEqual({ 'Fn::If': ['IsManagedProcessor', 'false', 'true'] });
  });

  it('consumeFaceSearch reads each camera\'s data stream through its enhanced fan-out consumer, with the declared delivery settings', () => {
    const ids = CAMERAS.map((c) => c.split('-').map(pascal).join(''));
    const consumers = ofType('AWS::Kinesis::StreamConsumer');
    expect(consumers.map(([id]) => id).sort()).toEqual(ids.map((id) => `FaceSearchConsumer${id}`).sort());
    for (const id of ids) expect(resources[`FaceSearchConsumer${id}`].Properties.StreamARN).toEqual({ 'Fn::GetAtt': [`FaceSearchStream${id}`, 'Arn'] });
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(([, m]) => JSON.stringify(m.Properties.FunctionName).includes('ConsumeFaceSearch'));
    expect(mappings.map(([, m]) => JSON.stringify(m.Properties.EventSourceArn)).sort()).toEqual(ids.map((id) => getAtt(`FaceSearchConsumer${id}`, 'ConsumerARN')).sort());
    for (const [, m] of mappings) {
      expect(m.Properties).toMatchObject({ BatchSize: 100, MaximumBatchingWindowInSeconds: 0, MaximumRetryAttempts: 5, BisectBatchOnFunctionError: true, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    }
    const granted = grants('consumeFaceSearch');
    const consumerArns = ids.map((id) => getAtt(`FaceSearchConsumer${id}`, 'ConsumerARN')).sort();
    expect(granted['kinesis:SubscribeToShard']).toEqual(consumerArns);
    expect(granted['kinesis:DescribeStreamConsumer']).toEqual(consumerArns);
    expect(granted['kinesis:GetRecords']).toEqual(ids.map((id) => getAtt(`FaceSearchStream${id}`)).sort());
  });

  it('erasePerson: the deletes it performs, listing limited to faces/', () => {
    expect(grants('erasePerson')).toEqual({
      'rekognition:DeleteFaces': [collectionArn],
      's3:ListBucket': [JSON.stringify({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}` })],
      's3:DeleteObject': [JSON.stringify({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}/faces/*` })],
      'dynamodb:Query': [getAtt('PeopleTable'), index('SightingsTable', 'byPerson')].sort(),
      'dynamodb:BatchWriteItem': [getAtt('PeopleTable'), getAtt('SightingsTable')].sort(),
      'dynamodb:DeleteItem': [getAtt('AlertStateTable')],
    });
    const list = statementsOf('erasePerson').find((s) => actions(s).includes('s3:ListBucket'));
    expect(list?.Condition).toEqual({ StringLike: { 's3:prefix': ['faces/*'] } });
  });

  it('puts every API route behind the IAM authorizer', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route');
    expect(routes.length).toBeGreaterThanOrEqual(8);
    for (const [, route] of routes) expect({ route: route.Properties.RouteKey, auth: route.Properties.AuthorizationType }).toEqual({ route: route.Properties.RouteKey, auth: 'AWS_IAM' });
  });
});
