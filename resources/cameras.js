'use strict';
/**
 * Per-camera resources, generated from the `cameras` parameter (a comma-separated list): for each camera a
 * Kinesis Video stream, an encrypted face-search data stream and, in `managed` processor mode, a Rekognition
 * face-search stream processor (AWS allows one processor per input video stream and per output data stream).
 * osls resolves `${file(resources/cameras.js):...}` by calling these functions at package time.
 */

const CAMERA_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

function parseCameras(value) {
  const cameras = String(value ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (cameras.length === 0) throw new Error('Parameter "cameras" is empty: give at least one camera name, e.g. --param="cameras=front-door"');
  for (const camera of cameras) {
    if (!CAMERA_NAME.test(camera)) {
      throw new Error(`Camera name "${camera}" is invalid: use 1-32 lowercase letters, digits and inner hyphens (e.g. front-door)`);
    }
  }
  if (new Set(cameras).size !== cameras.length) throw new Error(`Parameter "cameras" lists a camera twice: ${cameras.join(',')}`);
  return cameras;
}

const pascal = (camera) => camera.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('');

/** Logical ids and physical names of one camera's resources; the code gets the names via CAMERA_RESOURCES. */
function cameraResources(prefix, camera) {
  const id = pascal(camera);
  return {
    camera,
    videoStreamLogicalId: `VideoStream${id}`,
    dataStreamLogicalId: `FaceSearchStream${id}`,
    consumerLogicalId: `FaceSearchConsumer${id}`,
    processorLogicalId: `StreamProcessor${id}`,
    videoStream: `${prefix}-${camera}`,
    dataStream: `${prefix}-${camera}-face-search`,
    consumer: `${prefix}-${camera}-alerts`,
    processor: `${prefix}-${camera}`,
  };
}

async function context({ resolveVariable }) {
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');
  const cameras = parseCameras(await resolveVariable('param:cameras'));
  const prefix = `${service}-${stage}`;
  return cameras.map((camera) => cameraResources(prefix, camera));
}

async function resources(options) {
  const cameras = await context(options);
  // Required here, not at the top: deployment.js requires this file too.
  const managed = (await require('./deployment').processorMode(options)) === 'managed';
  const threshold = Number(await options.resolveVariable('param:faceMatchThreshold'));
  if (!(threshold >= 0 && threshold <= 100)) throw new Error('Parameter "faceMatchThreshold" must be a number from 0 to 100 (AWS raises values below 80 to 80)');
  const Resources = {};
  for (const c of cameras) {
    Resources[c.videoStreamLogicalId] = {
      Type: 'AWS::KinesisVideo::Stream',
      Properties: {
        Name: c.videoStream,
        DataRetentionInHours: 24,
        MediaType: 'video/h264',
        Tags: [{ Key: 'camera', Value: c.camera }],
      },
    };
    Resources[c.dataStreamLogicalId] = {
      Type: 'AWS::Kinesis::Stream',
      Properties: {
        Name: c.dataStream,
        ShardCount: 1,
        RetentionPeriodHours: 24,
        // The service's own key (resources/keys.yml): face-search records name people and where they were.
        StreamEncryption: { EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': ['DataKey', 'Arn'] } },
        Tags: [{ Key: 'camera', Value: c.camera }],
      },
    };
    // The consumer reads through an enhanced fan-out consumer: records are pushed to it ~70 ms after they
    // arrive instead of waiting for Lambda's once-a-second poll of the shard (docs/consumer.md, latency).
    Resources[c.consumerLogicalId] = {
      Type: 'AWS::Kinesis::StreamConsumer',
      Properties: {
        StreamARN: { 'Fn::GetAtt': [c.dataStreamLogicalId, 'Arn'] },
        ConsumerName: c.consumer,
      },
    };
    // Kept like the tables: deleting the stack must not take the face-search records with it.
    for (const id of [c.videoStreamLogicalId, c.dataStreamLogicalId]) Object.assign(Resources[id], { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    if (!managed) continue;
    Resources[c.processorLogicalId] = {
      Type: 'AWS::Rekognition::StreamProcessor',
      Properties: {
        Name: c.processor,
        RoleArn: { 'Fn::GetAtt': ['StreamProcessorRole', 'Arn'] },
        KinesisVideoStream: { Arn: { 'Fn::GetAtt': [c.videoStreamLogicalId, 'Arn'] } },
        KinesisDataStream: { Arn: { 'Fn::GetAtt': [c.dataStreamLogicalId, 'Arn'] } },
        FaceSearchSettings: {
          CollectionId: { Ref: 'FaceCollection' },
          FaceMatchThreshold: threshold,
        },
        Tags: [{ Key: 'camera', Value: c.camera }],
      },
    };
  }
  if (!managed) return { Resources };
  // The role Rekognition assumes: exactly PutRecord(s) on the data streams and GetDataEndpoint/GetMedia on the video streams.
  Resources.StreamProcessorRole = {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'rekognition.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
      Policies: [
        {
          PolicyName: 'face-search-stream-processor',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: ['kinesis:PutRecord', 'kinesis:PutRecords'],
                Resource: cameras.map((c) => ({ 'Fn::GetAtt': [c.dataStreamLogicalId, 'Arn'] })),
              },
              // The data streams are encrypted with the service's key: writing needs a data key from it.
              { Effect: 'Allow', Action: ['kms:GenerateDataKey'], Resource: { 'Fn::GetAtt': ['DataKey', 'Arn'] } },
              {
                Effect: 'Allow',
                Action: ['kinesisvideo:GetDataEndpoint', 'kinesisvideo:GetMedia'],
                Resource: cameras.map((c) => ({ 'Fn::GetAtt': [c.videoStreamLogicalId, 'Arn'] })),
              },
            ],
          },
        },
      ],
    },
  };
  return { Resources };
}

/** The consumer's Kinesis event sources, one per camera's data stream, all with the same delivery settings. */
async function consumerEvents(options) {
  const cameras = await context(options);
  const batch = await options.resolveVariable('self:custom.faceSearchBatch');
  return cameras.map((c) => ({
    stream: {
      type: 'kinesis',
      arn: { 'Fn::GetAtt': [c.dataStreamLogicalId, 'Arn'] },
      consumer: { 'Fn::GetAtt': [c.consumerLogicalId, 'ConsumerARN'] },
      ...batch,
    },
  }));
}

/** ARNs of every camera's data stream / video stream, for IAM statements. */
async function dataStreamArns(options) {
  return (await context(options)).map((c) => ({ 'Fn::GetAtt': [c.dataStreamLogicalId, 'Arn'] }));
}
async function consumerArns(options) {
  return (await context(options)).map((c) => ({ 'Fn::GetAtt': [c.consumerLogicalId, 'ConsumerARN'] }));
}
async function videoStreamArns(options) {
  return (await context(options)).map((c) => ({ 'Fn::GetAtt': [c.videoStreamLogicalId, 'Arn'] }));
}

/** Names the code needs, as one JSON environment variable: {"front-door":{"videoStream":..,"dataStream":..,"processor":..}}. */
async function environment(options) {
  const cameras = await context(options);
  const byCamera = {};
  for (const c of cameras) byCamera[c.camera] = { videoStream: c.videoStream, dataStream: c.dataStream, processor: c.processor };
  return JSON.stringify(byCamera);
}

module.exports = { resources, consumerEvents, dataStreamArns, consumerArns, videoStreamArns, environment, parseCameras, cameraResources };
