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

type Resource = { Type: string; Condition?: string; DependsOn?: unknown; DeletionPolicy?: string; UpdateReplacePolicy?: string; Properties: Record<string, any> };
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}
interface Template {
  Resources: Record<string, Resource>;
  Conditions?: Record<string, unknown>;
  Outputs?: Record<string, { Value: unknown }>;
}
/** The default deployment (self processor), with an alert email and phone given. */
let template: Template;
let resources: Record<string, Resource>;
/** The same with processorMode=managed on an account that says it has access, and Rekognition's face detector. */
let managed: Template;
let workDir: string;
let service: string;

const ALERT_PARAMS = ['alertEmail=ops@example.com', 'alertPhone=+15555550123'];

async function packageService(params: string[], outDir: string): Promise<{ code: number; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', FORCE_COLOR: '0' };
  // Proves packaging needs no AWS credentials (the CA bundle is not a credential).
  for (const key of Object.keys(env)) if (key.startsWith('AWS_') && key !== 'AWS_CA_BUNDLE') delete env[key];
  const args = [
    path.join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js'),
    'package',
    '--stage',
    'ci',
    `--param=cameras=${CAMERAS.join(',')}`,
    ...params.map((p) => `--param=${p}`),
    '--package',
    outDir,
  ];
  const output: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: service, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 200_000);
    child.on('error', reject);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c ?? 1);
    });
  });
  return { code, output: output.join('') };
}

async function packaged(params: string[], name: string): Promise<Template> {
  const outDir = path.join(workDir, name);
  const { code, output } = await packageService(params, outDir);
  if (code !== 0) throw new Error(`osls package failed (exit ${code}):\n${output}`);
  return JSON.parse(fs.readFileSync(path.join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'));
}

beforeAll(async () => {
  // Given, for every test below: the service packaged twice (self mode with alert addresses; managed mode),
  // each test then reads one part of the two templates
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'facewatch-package-'));
  service = path.join(workDir, 'service');
  fs.mkdirSync(service);
  for (const input of INPUTS) {
    if (fs.existsSync(path.join(ROOT, input))) fs.cpSync(path.join(ROOT, input), path.join(service, input), { recursive: true });
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(service, 'node_modules'), 'dir');
  template = await packaged(ALERT_PARAMS, 'self');
  resources = template.Resources;
  managed = await packaged(['processorMode=managed', 'managedProcessorAccess=true', 'processorFaceDetector=rekognition'], 'managed');
});
afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

const ofType = (type: string, t: Template = template) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const pascal = (name: string) => name[0].toUpperCase() + name.slice(1);

/** The statements of a function's own role, without the log-writing ones every function gets. */
function statementsOf(functionName: string, t: Template = template): Statement[] {
  const resources = t.Resources;
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
function grants(functionName: string, t: Template = template): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const s of statementsOf(functionName, t).filter((statement) => statement.Effect === 'Allow')) {
    const targets = (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map((r) => JSON.stringify(r));
    for (const a of actions(s)) result[a] = [...(result[a] ?? []), ...targets].sort();
  }
  return result;
}
const getAtt = (id: string, attribute = 'Arn') => JSON.stringify({ 'Fn::GetAtt': [id, attribute] });
const index = (table: string, name: string) => JSON.stringify({ 'Fn::Sub': `\${${table}.Arn}/index/${name}` });
const collectionArn = JSON.stringify({ 'Fn::Sub': 'arn:${AWS::Partition}:rekognition:${AWS::Region}:${AWS::AccountId}:collection/${FaceCollection}' });
const visitorCollectionArn = JSON.stringify({ 'Fn::Sub': 'arn:${AWS::Partition}:rekognition:${AWS::Region}:${AWS::AccountId}:collection/${VisitorCollection}' });
const snapshotsArn = JSON.stringify({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::facewatch-ci-faces-${AWS::AccountId}-${AWS::Region}/snapshots/*' });
const bucketName = 'facewatch-ci-faces-${AWS::AccountId}-${AWS::Region}';
const processorArn = (camera: string) => JSON.stringify({ 'Fn::Sub': `arn:\${AWS::Partition}:rekognition:\${AWS::Region}:\${AWS::AccountId}:streamprocessor/facewatch-ci-${camera}` });

describe('the packaged template: resources of the foundation', () => {
  it('has a private, encrypted faces bucket that notifies the indexer on create and delete under faces/', () => {
    const bucket = resources.FacesBucket.Properties;
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': ['DataKey', 'Arn'] } }, BucketKeyEnabled: true },
    ]);
    // erasure must leave no old version behind
    expect(bucket.VersioningConfiguration).toBeUndefined();
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

  it('has the collections (people, visitors), and per camera a video stream and a data stream under the service key, both retained', () => {
    // the people's faces, and the recurring unknown visitors' (docs/visitors.md)
    expect(ofType('AWS::Rekognition::Collection').map(([id, c]) => [id, c.Properties.CollectionId])).toEqual([
      ['FaceCollection', 'facewatch-ci-faces'],
      ['VisitorCollection', 'facewatch-ci-visitors'],
    ]);
    const videoStreams = ofType('AWS::KinesisVideo::Stream');
    expect(videoStreams).toHaveLength(CAMERAS.length);
    const dataStreams = ofType('AWS::Kinesis::Stream');
    expect(dataStreams).toHaveLength(CAMERAS.length);
    for (const [, stream] of dataStreams) expect(stream.Properties.StreamEncryption).toEqual({ EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': ['DataKey', 'Arn'] } });
    for (const [id, stream] of [...videoStreams, ...dataStreams]) expect({ id, d: stream.DeletionPolicy, u: stream.UpdateReplacePolicy }).toEqual({ id, d: 'Retain', u: 'Retain' });
    // `self` (the default) declares no managed processor and no role for Rekognition
    expect(ofType('AWS::Rekognition::StreamProcessor')).toHaveLength(0);
    expect(resources.StreamProcessorRole).toBeUndefined();
  });

  it('managed mode: a stream processor per camera, and a role doing exactly PutRecord(s) and GetDataEndpoint/GetMedia', () => {
    const processors = ofType('AWS::Rekognition::StreamProcessor', managed);
    expect(processors).toHaveLength(CAMERAS.length);
    for (const [, processor] of processors) expect(processor.Properties.FaceSearchSettings).toEqual({ CollectionId: { Ref: 'FaceCollection' }, FaceMatchThreshold: 85.5 });
    const role = managed.Resources.StreamProcessorRole;
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'rekognition.amazonaws.com' });
    const statements: Statement[] = role.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    const byAction = Object.fromEntries(statements.flatMap((s) => actions(s).map((a) => [a, s.Resource])));
    expect(Object.keys(byAction).sort()).toEqual(['kinesis:PutRecord', 'kinesis:PutRecords', 'kinesisvideo:GetDataEndpoint', 'kinesisvideo:GetMedia', 'kms:GenerateDataKey']);
    expect(byAction['kinesis:PutRecords']).toEqual(ofType('AWS::Kinesis::Stream', managed).map(([id]) => ({ 'Fn::GetAtt': [id, 'Arn'] })));
    expect(byAction['kinesisvideo:GetMedia']).toEqual(ofType('AWS::KinesisVideo::Stream', managed).map(([id]) => ({ 'Fn::GetAtt': [id, 'Arn'] })));
    expect(byAction['kms:GenerateDataKey']).toEqual({ 'Fn::GetAtt': ['DataKey', 'Arn'] });
  });

  it('has on-demand, encrypted tables with point-in-time recovery, and TTL where data expires', () => {
    const tables = ofType('AWS::DynamoDB::Table');
    expect(tables.map(([id]) => id).sort()).toEqual(expect.arrayContaining(['AlertStateTable', 'PeopleTable', 'SightingsTable', 'VisitorsTable']));
    for (const [, table] of tables) {
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { Ref: 'DataKey' } });
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    }
    expect(resources.SightingsTable.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(resources.AlertStateTable.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(resources.SightingsTable.Properties.GlobalSecondaryIndexes.map((i: any) => i.IndexName).sort()).toEqual(['byCamera', 'byDay', 'byPerson', 'byVisitor']);
    expect(resources.VisitorsTable.Properties.GlobalSecondaryIndexes.map((i: any) => [i.IndexName, i.KeySchema.map((k: any) => k.AttributeName)])).toEqual([['byLastSeen', ['kind', 'lastSeenAt']]]);
    // deleting the stack never erases people or sightings (erasure is the API's job)
    for (const id of ['PeopleTable', 'SightingsTable']) expect([resources[id].DeletionPolicy, resources[id].UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
  });

  it('has an encrypted alert topic with subscriptions for exactly the addresses given, and queues under the service key', () => {
    expect(resources.AlertTopic.Properties.KmsMasterKeyId).toBe('alias/aws/sns');
    expect(resources.AlertEmailSubscription.Properties).toEqual({ TopicArn: { Ref: 'AlertTopic' }, Protocol: 'email', Endpoint: 'ops@example.com' });
    expect(resources.AlertSmsSubscription.Properties).toEqual({ TopicArn: { Ref: 'AlertTopic' }, Protocol: 'sms', Endpoint: '+15555550123' });
    expect(resources.OperationsAlarmEmailSubscription.Properties).toMatchObject({ TopicArn: { Ref: 'OperationsAlarmTopic' }, Endpoint: 'ops@example.com' });
    // none without the parameters (the managed variant gives none)
    expect(ofType('AWS::SNS::Subscription', managed)).toHaveLength(0);
    for (const id of ['ConsumerDLQ', 'PhotoEventsDLQ']) expect(resources[id].Properties.KmsMasterKeyId).toEqual({ Ref: 'DataKey' });
  });

  it('decides at package time: no condition comparing constants, no unused role, no grant that allows nothing', () => {
    for (const t of [template, managed]) {
      expect(t.Conditions ?? {}).toEqual({});
      expect(Object.values(t.Resources).filter((r) => r.Condition !== undefined)).toEqual([]);
      expect(t.Resources.IamRoleLambdaExecution).toBeUndefined();
      for (const [, role] of ofType('AWS::IAM::Role', t)) {
        const statements: Statement[] = (role.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement);
        expect(statements.flatMap(actions)).not.toContain('kinesis:ListStreams');
      }
    }
  });

  it('refuses managed mode at package time unless the account says it has access', async () => {
    // When managed mode is packaged without managedProcessorAccess=true
    const { code, output } = await packageService(['processorMode=managed'], path.join(workDir, 'refused'));
    // Then packaging fails, naming the parameter and the date
    expect(code).not.toBe(0);
    expect(output).toContain('managedProcessorAccess=true');
    expect(output).toContain('2026-04-30');
  });
});

describe('the packaged template: keys, alarms and the processor chain', () => {
  it('has a rotated customer-managed key for the data, and one CloudWatch may use for the alarm topic', () => {
    expect(resources.DataKey.Properties.EnableKeyRotation).toBe(true);
    expect([resources.DataKey.DeletionPolicy, resources.DataKey.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    expect(resources.OperationsAlarmTopic.Properties.KmsMasterKeyId).toEqual({ Ref: 'TopicKey' });
    const cloudwatch = resources.TopicKey.Properties.KeyPolicy.Statement.find((s: any) => s.Principal?.Service === 'cloudwatch.amazonaws.com');
    expect(cloudwatch.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    // every alarm notifies the operations topic
    for (const [id, alarm] of ofType('AWS::CloudWatch::Alarm')) expect({ id, actions: alarm.Properties.AlarmActions }).toEqual({ id, actions: [{ Ref: 'OperationsAlarmTopic' }] });
  });

  it('keeps indexFace\'s failed photo events in an alarmed queue', () => {
    const [[, config]] = ofType('AWS::Lambda::EventInvokeConfig').filter(([, c]) => JSON.stringify(c.Properties.FunctionName).includes('IndexFace'));
    expect(config.Properties.DestinationConfig).toEqual({ OnFailure: { Destination: { 'Fn::GetAtt': ['PhotoEventsDLQ', 'Arn'] } } });
    expect(grants('indexFace')['sqs:SendMessage']).toEqual([getAtt('PhotoEventsDLQ')]);
    expect(resources.PhotoEventsDlqAlarm.Properties.Dimensions).toEqual([{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['PhotoEventsDLQ', 'QueueName'] } }]);
  });

  it('lets processVideo chain itself (RecursiveLoop Allow) under a reserved concurrency of two runs per camera, none in managed mode', () => {
    const fn = resources.ProcessVideoLambdaFunction.Properties;
    expect(fn.RecursiveLoop).toBe('Allow');
    expect(fn.ReservedConcurrentExecutions).toBe(2 * CAMERAS.length);
    expect(managed.Resources.ProcessVideoLambdaFunction.Properties.ReservedConcurrentExecutions).toBe(0);
  });

  it('checks every 5 minutes that RUNNING processors still checkpoint, restarts a broken chain, and alarms when one stalls', () => {
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties.Targets).includes('CheckProcessors'));
    expect(rules.map(([, r]) => r.Properties.ScheduleExpression)).toEqual(['rate(5 minutes)']);
    // Self mode: reads the state, repairs it with a conditional write, invokes a new run of processVideo; managed mode: only reads.
    const state = [getAtt('ProcessorStateTable')];
    expect(grants('checkProcessors')).toEqual({ 'dynamodb:GetItem': state, 'dynamodb:UpdateItem': state, 'lambda:InvokeFunction': [getAtt('ProcessVideoLambdaFunction')] });
    expect(grants('checkProcessors', managed)).toEqual({ 'dynamodb:GetItem': state });
    expect(resources.CheckProcessorsLambdaFunction.Properties.Environment.Variables.PROCESS_VIDEO_FUNCTION).toBe('facewatch-ci-processVideo');
    expect(resources.ProcessorChainStalledAlarm.Properties).toMatchObject({ MetricName: 'ProcessorChainStalledSeconds', Statistic: 'Maximum', Threshold: 300 });
  });

  it('presigns snapshot links for snapshotLinkSeconds (default an hour), and runs without source maps', () => {
    for (const fn of ['ConsumeFaceSearchLambdaFunction', 'ListSightingsLambdaFunction']) {
      expect(resources[fn].Properties.Environment.Variables).toMatchObject({ SNAPSHOT_LINK_SECONDS: '3600', PROCESSOR_SNAPSHOTS: 'true' });
      expect(managed.Resources[fn].Properties.Environment.Variables.PROCESSOR_SNAPSHOTS).toBe('false');
    }
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      expect({ id, runtime: fn.Properties.Runtime, options: fn.Properties.Environment?.Variables?.NODE_OPTIONS }).toEqual({ id, runtime: 'nodejs24.x', options: undefined });
    }
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
      // photos are under the service key (Rekognition reads them with this role); failed events go to an encrypted queue
      'kms:Decrypt': [getAtt('DataKey')],
      'kms:GenerateDataKey': [getAtt('DataKey')],
      'sqs:SendMessage': [getAtt('PhotoEventsDLQ')],
    });
  });

  it('processor functions (self mode): the processor-state table and, to start, the worker; no Rekognition', () => {
    const state = [getAtt('ProcessorStateTable')];
    expect(grants('startProcessor')).toEqual({ 'dynamodb:GetItem': state, 'dynamodb:UpdateItem': state, 'lambda:InvokeFunction': [getAtt('ProcessVideoLambdaFunction')] });
    expect(grants('stopProcessor')).toEqual({ 'dynamodb:GetItem': state, 'dynamodb:UpdateItem': state });
    expect(grants('describeProcessor')).toEqual({ 'dynamodb:GetItem': state });
  });

  it('processor functions (managed mode): only their own Rekognition calls, on this stage\'s processors', () => {
    const arns = CAMERAS.map(processorArn).sort();
    expect(grants('startProcessor', managed)).toEqual({ 'rekognition:StartStreamProcessor': arns, 'rekognition:DescribeStreamProcessor': arns });
    expect(grants('stopProcessor', managed)).toEqual({ 'rekognition:StopStreamProcessor': arns, 'rekognition:DescribeStreamProcessor': arns });
    expect(grants('describeProcessor', managed)).toEqual({ 'rekognition:DescribeStreamProcessor': arns });
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
      // the people's collection, and the visitors' for faces that match nobody (indexed there when new)
      'rekognition:SearchFacesByImage': [collectionArn, visitorCollectionArn].sort(),
      'rekognition:IndexFaces': [visitorCollectionArn],
      'kinesis:PutRecords': dataStreams,
      's3:PutObject': [JSON.stringify({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}/snapshots/*` })],
      'kms:GenerateDataKey': [getAtt('DataKey')],
      'lambda:InvokeFunction': [JSON.stringify({ 'Fn::Sub': 'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:facewatch-ci-processVideo' })],
    });
    // DetectFaces is denied (the worker finds faces itself) unless processorFaceDetector=rekognition; it accepts no resource but "*"
    expect(statementsOf('processVideo').find((s) => actions(s).includes('rekognition:DetectFaces'))).toMatchObject({ Effect: 'Deny', Resource: '*' });
    expect(grants('processVideo', managed)['rekognition:DetectFaces']).toEqual([JSON.stringify('*')]);
    // no visitors in managed mode: the visitors collection is denied and the worker told so
    expect(statementsOf('processVideo', managed).find((s) => actions(s).includes('rekognition:IndexFaces'))).toMatchObject({ Effect: 'Deny' });
    expect(managed.Resources.ProcessVideoLambdaFunction.Properties.Environment.Variables.PROCESSOR_VISITORS).toBe('false');
    expect(resources.ProcessVideoLambdaFunction.Properties.Environment.Variables).toMatchObject({ PROCESSOR_VISITORS: 'true', VISITOR_COLLECTION_ID: { Ref: 'VisitorCollection' }, VISIT_GAP_SECONDS: '60' });
    // face snapshots expire with the sightings
    expect(resources.FacesBucket.Properties.LifecycleConfiguration.Rules).toEqual([
      { Id: 'expire-face-snapshots', Status: 'Enabled', Prefix: 'snapshots/', ExpirationInDays: 30 },
    ]);
  });

  it("the console's routes: a sighting read, its corrections and upload links, each with only what it calls", () => {
    const objects = (prefix: string) => [JSON.stringify({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}/${prefix}/*` })];
    expect(grants('getSighting')).toEqual({ 'dynamodb:GetItem': [getAtt('SightingsTable')], 's3:GetObject': objects('snapshots'), 'kms:Decrypt': [getAtt('DataKey')] });
    expect(grants('identifySighting')).toEqual({
      'dynamodb:GetItem': [getAtt('SightingsTable')],
      'dynamodb:UpdateItem': [getAtt('SightingsTable')],
      'dynamodb:Query': [getAtt('PeopleTable')],
      's3:GetObject': objects('snapshots'),
      's3:PutObject': objects('faces'),
      'kms:Decrypt': [getAtt('DataKey')],
      'kms:GenerateDataKey': [getAtt('DataKey')],
    });
    expect(grants('rejectSightingMatch')).toEqual({
      'dynamodb:GetItem': [getAtt('SightingsTable')],
      'dynamodb:UpdateItem': [getAtt('SightingsTable')],
      's3:GetObject': objects('snapshots'),
      'kms:Decrypt': [getAtt('DataKey')],
    });
    // Upload links can only write faces/ (the indexer's input), never snapshots/ or anything else.
    expect(grants('createPhotoUploads')).toEqual({ 'dynamodb:Query': [getAtt('PeopleTable')], 's3:PutObject': objects('faces'), 'kms:GenerateDataKey': [getAtt('DataKey')] });
  });

  it('the faces bucket accepts PUTs from the console origin only, with the signed content type', () => {
    const rules = (template.Resources.FacesBucket.Properties as { CorsConfiguration: { CorsRules: Record<string, unknown>[] } }).CorsConfiguration.CorsRules;
    expect(rules).toEqual([
      { Id: 'console-photo-uploads', AllowedMethods: ['PUT'], AllowedOrigins: [{ 'Fn::Sub': 'https://${ConsoleDistribution.DomainName}' }], AllowedHeaders: ['content-type'], MaxAge: 3600 },
    ]);
  });

  it('people readers: queries only; updatePerson adds UpdateItem', () => {
    expect(grants('listPeople')).toEqual({ 'dynamodb:Query': [getAtt('PeopleTable'), index('PeopleTable', 'people')].sort() });
    // getPerson also links the person's photos (presigned GETs carry its rights): faces/ only, under the data key.
    expect(grants('getPerson')).toEqual({
      'dynamodb:Query': [getAtt('PeopleTable')],
      's3:GetObject': [JSON.stringify({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}/faces/*` })],
      'kms:Decrypt': [getAtt('DataKey')],
    });
    expect(actionsOf('updatePerson')).toEqual(['dynamodb:Query', 'dynamodb:UpdateItem']);
  });

  it('listSightings: Query on the sightings indexes, not the table; reads (presigns) face snapshots only', () => {
    expect(grants('listSightings')).toEqual({
      'dynamodb:Query': [index('SightingsTable', 'byCamera'), index('SightingsTable', 'byDay'), index('SightingsTable', 'byPerson'), index('SightingsTable', 'byVisitor')].sort(),
      's3:GetObject': [JSON.stringify({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}/snapshots/*` })],
      'kms:Decrypt': [getAtt('DataKey')],
    });
  });

  it('consumeFaceSearch: may read face snapshots only (to presign the alert links), and links them only in self mode', () => {
    expect(grants('consumeFaceSearch')['s3:GetObject']).toEqual([JSON.stringify({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}/snapshots/*` })]);
    const variables = (resources.ConsumeFaceSearchLambdaFunction.Properties.Environment.Variables ?? {}) as Record<string, unknown>;
    expect(variables.PROCESSOR_SNAPSHOTS).toBe('true');
    expect(grants('consumeFaceSearch')['kms:Decrypt']).toEqual([getAtt('DataKey')]);
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
      // the person's faces, and the faces of visitors named as the person
      'rekognition:DeleteFaces': [collectionArn, visitorCollectionArn].sort(),
      's3:ListBucket': [JSON.stringify({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}` })],
      's3:DeleteObject': [JSON.stringify({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}/faces/*` }), snapshotsArn].sort(),
      'dynamodb:Query': [getAtt('PeopleTable'), index('SightingsTable', 'byPerson'), index('SightingsTable', 'byVisitor')].sort(),
      'dynamodb:BatchWriteItem': [getAtt('PeopleTable'), getAtt('SightingsTable')].sort(),
      'dynamodb:DeleteItem': [getAtt('AlertStateTable'), getAtt('VisitorsTable')].sort(),
      'dynamodb:GetItem': [getAtt('VisitorsTable')],
    });
    const list = statementsOf('erasePerson').find((s) => actions(s).includes('s3:ListBucket'));
    expect(list?.Condition).toEqual({ StringLike: { 's3:prefix': ['faces/*'] } });
  });

  it('visitor routes: reads of the visitors table; naming copies a snapshot into faces/ and moves sightings; erasure deletes', () => {
    const faces = JSON.stringify({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucketName}/faces/*` });
    expect(grants('listVisitors')).toEqual({ 'dynamodb:Query': [index('VisitorsTable', 'byLastSeen')], 's3:GetObject': [snapshotsArn], 'kms:Decrypt': [getAtt('DataKey')] });
    expect(grants('getVisitor')).toEqual({ 'dynamodb:GetItem': [getAtt('VisitorsTable')], 's3:GetObject': [snapshotsArn], 'kms:Decrypt': [getAtt('DataKey')] });
    expect(grants('nameVisitor')).toEqual({
      'dynamodb:GetItem': [getAtt('VisitorsTable')],
      'dynamodb:DeleteItem': [getAtt('VisitorsTable')],
      'rekognition:DeleteFaces': [visitorCollectionArn],
      's3:GetObject': [snapshotsArn],
      's3:PutObject': [faces],
      'kms:Decrypt': [getAtt('DataKey')],
      'kms:GenerateDataKey': [getAtt('DataKey')],
      'dynamodb:Query': [getAtt('PeopleTable'), index('SightingsTable', 'byVisitor')].sort(),
      'dynamodb:UpdateItem': [getAtt('SightingsTable')],
      'dynamodb:PutItem': [getAtt('PeopleTable')],
    });
    expect(grants('eraseVisitor')).toEqual({
      'dynamodb:GetItem': [getAtt('VisitorsTable')],
      'dynamodb:DeleteItem': [getAtt('VisitorsTable')],
      'rekognition:DeleteFaces': [visitorCollectionArn],
      'dynamodb:Query': [index('SightingsTable', 'byVisitor')],
      'dynamodb:BatchWriteItem': [getAtt('SightingsTable')],
      's3:DeleteObject': [snapshotsArn],
    });
    // daily, visitors not seen for sightingRetentionDays are erased, faces included
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties.Targets).includes('ExpireVisitors'));
    expect(rules.map(([, r]) => r.Properties.ScheduleExpression)).toEqual(['rate(1 day)']);
    expect(grants('expireVisitors')).toEqual({
      'dynamodb:Query': [index('SightingsTable', 'byVisitor'), index('VisitorsTable', 'byLastSeen')].sort(),
      'dynamodb:GetItem': [getAtt('VisitorsTable')],
      'dynamodb:DeleteItem': [getAtt('VisitorsTable')],
      'rekognition:DeleteFaces': [visitorCollectionArn],
      'dynamodb:BatchWriteItem': [getAtt('SightingsTable')],
      's3:DeleteObject': [snapshotsArn],
    });
    // the consumer keeps the visitors with updates only
    expect(grants('consumeFaceSearch')['dynamodb:UpdateItem']).toEqual([getAtt('AlertStateTable'), getAtt('PeopleTable'), getAtt('VisitorsTable')].sort());
  });

  it('puts every declared API route behind the IAM authorizer, and its /api twin (same function) behind the Cognito JWT authorizer', () => {
    for (const t of [template, managed]) {
      const routes = ofType('AWS::ApiGatewayV2::Route', t).map(([, route]) => route.Properties);
      const isTwin = (route: Record<string, any>) => String(route.RouteKey).split(' ')[1].startsWith('/api/');
      const originals = routes.filter((route) => !isTwin(route));
      const twins = routes.filter(isTwin);
      expect(originals.length).toBeGreaterThanOrEqual(8);
      for (const route of originals) expect({ route: route.RouteKey, auth: route.AuthorizationType }).toEqual({ route: route.RouteKey, auth: 'AWS_IAM' });
      // exactly one twin per declared route, nothing else under /api
      const twinKeyOf = (key: string) => key.replace(' /', ' /api/');
      expect(twins.map((route) => route.RouteKey).sort()).toEqual(originals.map((route) => twinKeyOf(route.RouteKey)).sort());
      for (const original of originals) {
        const twin = twins.find((route) => route.RouteKey === twinKeyOf(original.RouteKey))!;
        expect({ route: twin.RouteKey, auth: twin.AuthorizationType, authorizer: twin.AuthorizerId, target: twin.Target }).toEqual({
          route: twin.RouteKey,
          auth: 'JWT',
          authorizer: { Ref: 'HttpApiAuthorizerCognito' },
          target: original.Target,
        });
      }
      // every route keeps an authorizer
      for (const route of routes) expect({ route: route.RouteKey, auth: route.AuthorizationType }).toEqual({ route: route.RouteKey, auth: expect.stringMatching(/^(AWS_IAM|JWT)$/) });
    }
  });
});

describe('the packaged template: the operator console (Cognito, CloudFront, the private bucket)', () => {
  const distribution = () => resources.ConsoleDistribution.Properties.DistributionConfig;
  const consoleUrl = { 'Fn::Sub': 'https://${ConsoleDistribution.DomainName}/console/' };

  it('has a user pool where only the operator creates users, with a strong password policy', () => {
    const pool = resources.ConsoleUserPool.Properties;
    expect(pool.AdminCreateUserConfig.AllowAdminCreateUserOnly).toBe(true);
    expect(pool.Policies.PasswordPolicy).toEqual({
      MinimumLength: 14,
      RequireLowercase: true,
      RequireUppercase: true,
      RequireNumbers: true,
      RequireSymbols: true,
      TemporaryPasswordValidityDays: 3,
    });
    expect(pool.UsernameAttributes).toEqual(['email']);
    expect(pool.EnabledMfas).toEqual(['SOFTWARE_TOKEN_MFA']);
    expect(resources.ConsoleUserPoolDomain.Properties).toEqual({ UserPoolId: { Ref: 'ConsoleUserPool' }, Domain: { 'Fn::Sub': 'facewatch-ci-${AWS::AccountId}' } });
  });

  it('has one app client for the page: public (no secret), authorization code only (PKCE), the console URL as callback and logout, short-lived tokens', () => {
    const clients = ofType('AWS::Cognito::UserPoolClient');
    expect(clients.map(([id]) => id)).toEqual(['ConsoleClient']);
    const client = resources.ConsoleClient.Properties;
    expect(client).toMatchObject({
      UserPoolId: { Ref: 'ConsoleUserPool' },
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'email'],
      SupportedIdentityProviders: ['COGNITO'],
      CallbackURLs: [consoleUrl],
      LogoutURLs: [consoleUrl],
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
      PreventUserExistenceErrors: 'ENABLED',
      EnableTokenRevocation: true,
      TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'hours' },
    });
    expect(client.AccessTokenValidity).toBeLessThanOrEqual(60);
    expect(client.IdTokenValidity).toBeLessThanOrEqual(60);
    expect(client.RefreshTokenValidity).toBeLessThanOrEqual(24);
  });

  it('checks the /api twins\' tokens with a JWT authorizer: the pool as issuer, the console client as audience', () => {
    const authorizers = ofType('AWS::ApiGatewayV2::Authorizer');
    expect(authorizers.map(([id]) => id)).toEqual(['HttpApiAuthorizerCognito']);
    expect(resources.HttpApiAuthorizerCognito.Properties).toEqual({
      ApiId: { Ref: 'HttpApi' },
      Name: 'cognito',
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: { 'Fn::Sub': 'https://cognito-idp.${AWS::Region}.amazonaws.com/${ConsoleUserPool}' }, Audience: [{ Ref: 'ConsoleClient' }] },
    });
  });

  it('keeps the page in a private, encrypted bucket without website hosting, readable only by this distribution (OAC) and only under console/', () => {
    const bucket = resources.ConsoleBucket.Properties;
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }]);
    expect(bucket.WebsiteConfiguration).toBeUndefined();
    expect(bucket.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });

    const statements = resources.ConsoleBucketPolicy.Properties.PolicyDocument.Statement;
    const allows = statements.filter((st: any) => st.Effect === 'Allow');
    expect(allows).toEqual([
      {
        Sid: 'CloudFrontReadsTheConsole',
        Effect: 'Allow',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Action: 's3:GetObject',
        Resource: { 'Fn::Sub': '${ConsoleBucket.Arn}/console/*' },
        Condition: { StringEquals: { 'AWS:SourceArn': { 'Fn::Sub': 'arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${ConsoleDistribution}' } } },
      },
    ]);
    const deny = statements.find((st: any) => st.Effect === 'Deny');
    expect(deny.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });

    expect(resources.ConsoleOriginAccessControl.Properties.OriginAccessControlConfig).toMatchObject({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' });
    const origin = distribution().Origins.find((o: any) => o.Id === 'console-bucket');
    expect(origin).toEqual({
      Id: 'console-bucket',
      DomainName: { 'Fn::GetAtt': ['ConsoleBucket', 'RegionalDomainName'] },
      OriginAccessControlId: { 'Fn::GetAtt': ['ConsoleOriginAccessControl', 'Id'] },
      S3OriginConfig: { OriginAccessIdentity: '' },
    });
  });

  it('serves /console/* from the bucket and /api/* from the HTTP API (never cached, every viewer header but Host), over HTTPS only', () => {
    const config = distribution();
    expect(config.Enabled).toBe(true);
    expect(config.ViewerCertificate).toEqual({ CloudFrontDefaultCertificate: true });
    const api = config.Origins.find((o: any) => o.Id === 'http-api');
    expect(api).toEqual({
      Id: 'http-api',
      DomainName: { 'Fn::Sub': '${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}' },
      CustomOriginConfig: { OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] },
    });
    const behaviours = Object.fromEntries(config.CacheBehaviors.map((b: any) => [b.PathPattern, b]));
    expect(Object.keys(behaviours).sort()).toEqual(['/api/*', '/console/*']);
    expect(behaviours['/console/*']).toMatchObject({ TargetOriginId: 'console-bucket', AllowedMethods: ['GET', 'HEAD'], CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6' });
    expect(behaviours['/api/*']).toEqual({
      PathPattern: '/api/*',
      TargetOriginId: 'http-api',
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      CachedMethods: ['GET', 'HEAD'],
      Compress: false,
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', // CachingDisabled
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac', // AllViewerExceptHostHeader
    });
    expect(config.DefaultCacheBehavior.TargetOriginId).toBe('console-bucket');
    // plain HTTP never gets content: pages redirect to HTTPS, the API refuses it
    for (const b of [config.DefaultCacheBehavior, ...config.CacheBehaviors]) expect(['https-only', 'redirect-to-https']).toContain(b.ViewerProtocolPolicy);
  });

  it('sends pages outside /console/ to /console/ and folders to their index.html, with a CloudFront function on the page behaviours only', () => {
    const fn = resources.ConsolePathFunction.Properties;
    expect(fn.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    const arn = { 'Fn::GetAtt': ['ConsolePathFunction', 'FunctionARN'] };
    const config = distribution();
    const byPattern = Object.fromEntries(config.CacheBehaviors.map((b: any) => [b.PathPattern, b.FunctionAssociations]));
    expect(config.DefaultCacheBehavior.FunctionAssociations).toEqual([{ EventType: 'viewer-request', FunctionARN: arn }]);
    expect(byPattern['/console/*']).toEqual([{ EventType: 'viewer-request', FunctionARN: arn }]);
    expect(byPattern['/api/*']).toBeUndefined();
    // the function's own code, run as CloudFront runs it
    const handler = new Function(`${fn.FunctionCode}; return handler;`)() as (event: unknown) => any;
    const run = (uri: string) => handler({ request: { uri, method: 'GET', headers: {} } });
    expect(run('/')).toMatchObject({ statusCode: 302, headers: { location: { value: '/console/' } } });
    expect(run('/console')).toMatchObject({ statusCode: 302, headers: { location: { value: '/console/' } } });
    expect(run('/console/').uri).toBe('/console/index.html');
    expect(run('/console/assets/index-abc.js').uri).toBe('/console/assets/index-abc.js');
  });

  it('tells the deploy step and the operator where things are (outputs), and gives the consumer the console URL for alert links', () => {
    expect(template.Outputs?.ConsoleUrl.Value).toEqual(consoleUrl);
    expect(template.Outputs?.UserPoolId.Value).toEqual({ Ref: 'ConsoleUserPool' });
    expect(template.Outputs?.ConsoleClientId.Value).toEqual({ Ref: 'ConsoleClient' });
    expect(template.Outputs?.ConsoleLoginDomain.Value).toEqual({ 'Fn::Sub': 'https://${ConsoleUserPoolDomain}.auth.${AWS::Region}.amazoncognito.com' });
    expect(template.Outputs?.ConsoleBucketName.Value).toEqual({ Ref: 'ConsoleBucket' });
    expect(template.Outputs?.ConsoleDistributionId.Value).toEqual({ Ref: 'ConsoleDistribution' });
    expect(resources.ConsumeFaceSearchLambdaFunction.Properties.Environment.Variables.CONSOLE_URL).toEqual(consoleUrl);
  });
});
