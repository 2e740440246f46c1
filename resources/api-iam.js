'use strict';
/**
 * Exact ARNs the API functions' IAM statements name, per camera (see resources/cameras.js for the names).
 * osls resolves `${file(resources/api-iam.js):processorArns}` by calling this at package time.
 */
const { cameraResources, parseCameras } = require('./cameras');

async function processorArns({ resolveVariable }) {
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');
  const cameras = parseCameras(await resolveVariable('param:cameras'));
  return cameras.map((camera) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:rekognition:\${AWS::Region}:\${AWS::AccountId}:streamprocessor/${cameraResources(`${service}-${stage}`, camera).processor}`,
  }));
}

module.exports = { processorArns };
