/** The Lambda entry point: configuration from the environment at cold start, failing with a clear message. */
const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
  jest.resetModules();
});

describe('consumeFaceSearch handler module', () => {

  const environment = {
    AWS_REGION: 'us-east-1',
    SIGHTINGS_TABLE: 'facewatch-dev-sightings',
    ALERT_STATE_TABLE: 'facewatch-dev-alert-state',
    PEOPLE_TABLE: 'facewatch-dev-people',
    ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:facewatch-dev-alerts',
    CAMERA_RESOURCES: '{"front-door":{"videoStream":"facewatch-dev-front-door","dataStream":"facewatch-dev-front-door-face-search","processor":"facewatch-dev-front-door"}}',
  };

  it('loads with the environment serverless.yml sets, defaults filling the optional settings', () => {
    process.env = { ...saved, ...environment };
    const handlerModule = require('../../../functions/consume-face-search/handler');
    expect(typeof handlerModule.handler).toBe('function');
  });

  it('names every missing or malformed variable at cold start', () => {
    process.env = { ...saved, ...environment, SIGHTINGS_TABLE: undefined, CAMERA_RESOURCES: '{front-door}', ALERT_COOLDOWN_SECONDS: 'soon' } as NodeJS.ProcessEnv;
    delete process.env.SIGHTINGS_TABLE;
    expect(() => require('../../../functions/consume-face-search/handler')).toThrow(
      /SIGHTINGS_TABLE is not set.*ALERT_COOLDOWN_SECONDS is invalid.*CAMERA_RESOURCES is invalid: expected JSON/,
    );
  });
});

describe('consumeFaceSearch handler (middy + Powertools, SDK clients mocked)', () => {
  it('handles a Lambda event end to end: sighting put, alert published, poison record skipped', async () => {
    // Given the environment and mocked DynamoDB/SNS clients
    jest.resetModules();
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      SIGHTINGS_TABLE: 'facewatch-dev-sightings',
      ALERT_STATE_TABLE: 'facewatch-dev-alert-state',
      PEOPLE_TABLE: 'facewatch-dev-people',
      ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:facewatch-dev-alerts',
      CAMERA_RESOURCES: '{"front-door":{"videoStream":"facewatch-dev-front-door","dataStream":"facewatch-dev-front-door-face-search","processor":"facewatch-dev-front-door"}}',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    const { mockClient } = require('aws-sdk-client-mock');
    const { DynamoDBDocumentClient, PutCommand, UpdateCommand, GetCommand } = require('@aws-sdk/lib-dynamodb');
    const { SNSClient, PublishCommand } = require('@aws-sdk/client-sns');
    const documents = mockClient(DynamoDBDocumentClient);
    documents.on(GetCommand).resolves({ Item: { displayName: 'Alice', rules: { muted: false, watchlist: false } } });
    documents.on(PutCommand).resolves({});
    documents.on(UpdateCommand).resolves({});
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const { handler } = require('../../../functions/consume-face-search/handler');
    const { faceSearchRecord, matchedFace, toBase64 } = require('../../fixtures/face-search-records');
    const { kinesisEvent } = require('../../support/kinesis-events');
    const good = faceSearchRecord({ streamArn: 'arn:aws:kinesisvideo:us-east-1:1:stream/facewatch-dev-front-door/1', faces: [{ matches: [matchedFace('alice', 97)] }] });
    const context = { functionName: 'consumeFaceSearch', awsRequestId: 'r-1', invokedFunctionArn: 'arn:aws:lambda:us-east-1:1:function:x', memoryLimitInMB: '512', getRemainingTimeInMillis: () => 60_000 };

    // When Lambda invokes it
    const response = await handler(kinesisEvent(['%%%%', toBase64(good)]), context);

    // Then no failure is reported, the sighting went to the sightings table and the alert to the topic
    expect(response).toEqual({ batchItemFailures: [] });
    expect(documents.commandCalls(PutCommand).map((c: any) => c.args[0].input.TableName)).toEqual(['facewatch-dev-sightings']);
    expect(sns.commandCalls(PublishCommand).map((c: any) => [c.args[0].input.TopicArn, c.args[0].input.MessageAttributes.camera.StringValue])).toEqual([
      ['arn:aws:sns:us-east-1:123456789012:facewatch-dev-alerts', 'front-door'],
    ]);
  });
});
