'use strict';
/**
 * Decisions taken at package time from the parameters, so the template holds no condition that compares
 * constants (cfn-lint W8003) and no resource that a deployment does not use. osls resolves
 * `${file(resources/deployment.js):...}` by calling these functions.
 */
const { cameraResources, parseCameras } = require('./cameras');

/** `self` or `managed`; `managed` only with an explicit statement that the account still has Rekognition's streaming face search. */
async function processorMode({ resolveVariable }) {
  const mode = String(await resolveVariable('param:processorMode'));
  if (mode !== 'self' && mode !== 'managed') throw new Error(`Parameter "processorMode" is "${mode}": use self (our own processor) or managed (Rekognition's stream processor)`);
  if (mode === 'managed' && String(await resolveVariable('param:managedProcessorAccess')) !== 'true') {
    throw new Error(
      'processorMode=managed needs Rekognition streaming face search, which AWS closed to new accounts on 2026-04-30: ' +
        'CreateStreamProcessor would fail mid-deploy. If this account used it before that date, add --param="managedProcessorAccess=true"; ' +
        'otherwise deploy with processorMode=self (docs/deploy.md).',
    );
  }
  return mode;
}

const isManaged = async (options) => (await processorMode(options)) === 'managed';

/** PROCESSOR_SNAPSHOTS of the functions that link snapshots: only the self processor keeps them. */
async function processorSnapshots(options) {
  return (await isManaged(options)) ? 'false' : 'true';
}

/**
 * processVideo's reserved concurrency: a run per camera plus one for the lease hand-over to the next run;
 * none in managed mode (Rekognition's processors do the work, the function must not run at all).
 */
async function processVideoConcurrency(options) {
  if (await isManaged(options)) return 0;
  return 2 * parseCameras(await options.resolveVariable('param:cameras')).length;
}

/** Email and SMS subscriptions, only for the addresses given: people alerts and, by email, operations alarms. */
async function subscriptions({ resolveVariable }) {
  const email = String((await resolveVariable('param:alertEmail')) ?? '').trim();
  const phone = String((await resolveVariable('param:alertPhone')) ?? '').trim();
  const Resources = {};
  const subscription = (topic, Protocol, Endpoint) => ({ Type: 'AWS::SNS::Subscription', Properties: { TopicArn: { Ref: topic }, Protocol, Endpoint } });
  if (email) {
    Resources.AlertEmailSubscription = subscription('AlertTopic', 'email', email);
    Resources.OperationsAlarmEmailSubscription = subscription('OperationsAlarmTopic', 'email', email);
  }
  if (phone) Resources.AlertSmsSubscription = subscription('AlertTopic', 'sms', phone);
  return { Resources };
}

/** IAM statements of the processor routes: Rekognition's processors in managed mode, the state table and worker in self mode. */
function processorStatements(route) {
  return async (options) => {
    if (await isManaged(options)) {
      const service = await options.resolveVariable('self:service');
      const stage = await options.resolveVariable('sls:stage');
      const cameras = parseCameras(await options.resolveVariable('param:cameras'));
      const action = { start: 'rekognition:StartStreamProcessor', stop: 'rekognition:StopStreamProcessor', describe: undefined }[route];
      return [
        {
          Effect: 'Allow',
          Action: [action, 'rekognition:DescribeStreamProcessor'].filter(Boolean),
          Resource: cameras.map((camera) => ({
            'Fn::Sub': `arn:\${AWS::Partition}:rekognition:\${AWS::Region}:\${AWS::AccountId}:streamprocessor/${cameraResources(`${service}-${stage}`, camera).processor}`,
          })),
        },
      ];
    }
    const table = { Effect: 'Allow', Action: route === 'describe' ? ['dynamodb:GetItem'] : ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: { 'Fn::GetAtt': ['ProcessorStateTable', 'Arn'] } };
    if (route !== 'start') return [table];
    return [table, { Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: { 'Fn::GetAtt': ['ProcessVideoLambdaFunction', 'Arn'] } }];
  };
}

/**
 * checkProcessors' grants: it reads each camera's processor state; in self mode it also repairs a broken chain
 * (conditional UpdateItem) and invokes a new run of processVideo. In managed mode no camera has a self processor
 * state, so it only reads.
 */
async function checkProcessorsStatements(options) {
  const table = { 'Fn::GetAtt': ['ProcessorStateTable', 'Arn'] };
  if (await isManaged(options)) return [{ Effect: 'Allow', Action: ['dynamodb:GetItem'], Resource: table }];
  return [
    { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: table },
    { Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: { 'Fn::GetAtt': ['ProcessVideoLambdaFunction', 'Arn'] } },
  ];
}

/** processVideo's DetectFaces grant: Allow only when Rekognition finds the faces (processorFaceDetector=rekognition). */
async function detectFacesEffect({ resolveVariable }) {
  const detector = String(await resolveVariable('param:processorFaceDetector'));
  if (detector !== 'local' && detector !== 'rekognition') throw new Error(`Parameter "processorFaceDetector" is "${detector}": use local (the worker's own detector) or rekognition (DetectFaces)`);
  return detector === 'rekognition' ? 'Allow' : 'Deny';
}

/** Recurring unknown visitors (docs/visitors.md): only the self processor finds them; `visitors=false` turns them off. */
async function processorVisitors(options) {
  const visitors = String(await options.resolveVariable('param:visitors'));
  if (visitors !== 'true' && visitors !== 'false') throw new Error(`Parameter "visitors" is "${visitors}": use true (recurring unknown visitors) or false`);
  return visitors === 'true' && !(await isManaged(options)) ? 'true' : 'false';
}

/** processVideo's grant on the visitors collection: Allow only when it looks visitors up. */
async function visitorsEffect(options) {
  return (await processorVisitors(options)) === 'true' ? 'Allow' : 'Deny';
}

module.exports = {
  checkProcessorsStatements,
  detectFacesEffect,
  processorVisitors,
  visitorsEffect,
  processorMode,
  processorSnapshots,
  processVideoConcurrency,
  subscriptions,
  startProcessorStatements: processorStatements('start'),
  stopProcessorStatements: processorStatements('stop'),
  describeProcessorStatements: processorStatements('describe'),
};
