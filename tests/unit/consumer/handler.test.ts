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

  it('given the environment serverless.yml sets with the optional settings omitted, when a batch arrives, then the documented defaults apply', async () => {
    // Given the required variables only, and mocked DynamoDB/SNS clients
    process.env = { ...saved, ...environment, POWERTOOLS_LOG_LEVEL: 'SILENT' };
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
    const record = faceSearchRecord({
      streamArn: 'arn:aws:kinesisvideo:us-east-1:1:stream/facewatch-dev-front-door/1',
      faces: [{ matches: [matchedFace('alice', 85.6)] }, { matches: [matchedFace('bob', 85.4)], left: 0.6 }],
    });
    const context = { functionName: 'consumeFaceSearch', awsRequestId: 'r-0', invokedFunctionArn: 'arn:aws:lambda:us-east-1:1:function:x', memoryLimitInMB: '512', getRemainingTimeInMillis: () => 60_000 };

    // When Lambda invokes it with one frame holding a match just above and one just below 85.5
    const response = await handler(kinesisEvent([toBase64(record)]), context);

    // Then faceMatchThreshold is 85.5, sightings expire after 30 days, the cooldown is 60 s and unknown faces do not alert
    expect(response).toEqual({ batchItemFailures: [] });
    const items = documents.commandCalls(PutCommand).map((c: any) => c.args[0].input.Item);
    expect(items.map((i: any) => i.personId).sort()).toEqual(['UNKNOWN', 'alice']);
    const frameSeconds = (item: any) => Math.floor(Date.parse(item.seenAt) / 1000);
    for (const item of items) expect(item.expiresAt - frameSeconds(item)).toBe(30 * 86_400);
    const claims = documents.commandCalls(UpdateCommand).filter((c: any) => c.args[0].input.ExpressionAttributeValues[':windowStart'] !== undefined);
    expect(claims).toHaveLength(1);
    const values = claims[0].args[0].input.ExpressionAttributeValues;
    expect(values[':at'] - values[':windowStart']).toBe(60_000);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
  });

  it('given missing or malformed variables, when the module loads, then the cold start fails naming each of them', () => {
    process.env = { ...saved, ...environment, SIGHTINGS_TABLE: undefined, CAMERA_RESOURCES: '{front-door}', ALERT_COOLDOWN_SECONDS: 'soon' } as NodeJS.ProcessEnv;
    delete process.env.SIGHTINGS_TABLE;
    expect(() => require('../../../functions/consume-face-search/handler')).toThrow(
      /SIGHTINGS_TABLE is not set.*ALERT_COOLDOWN_SECONDS is invalid.*CAMERA_RESOURCES is invalid: expected JSON/,
    );
  });

  it('given CONSOLE_URL, when an alert is sent, then its email links the sighting\'s console page; a CONSOLE_URL that is no URL fails the cold start', async () => {
    process.env = { ...saved, ...environment, POWERTOOLS_LOG_LEVEL: 'SILENT', CONSOLE_URL: 'https://d111111abcdef8.cloudfront.net/console/' };
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
    const record = faceSearchRecord({ streamArn: 'arn:aws:kinesisvideo:us-east-1:1:stream/facewatch-dev-front-door/1', faces: [{ matches: [matchedFace('alice', 97)] }] });
    const context = { functionName: 'consumeFaceSearch', awsRequestId: 'r-2', invokedFunctionArn: 'arn:aws:lambda:us-east-1:1:function:x', memoryLimitInMB: '512', getRemainingTimeInMillis: () => 60_000 };

    await handler(kinesisEvent([toBase64(record)]), context);

    const sightingId = documents.commandCalls(PutCommand)[0].args[0].input.Item.sightingId;
    const email = JSON.parse(sns.commandCalls(PublishCommand)[0].args[0].input.Message).email;
    expect(email).toContain(`In the console: https://d111111abcdef8.cloudfront.net/console/#/sightings/${sightingId}`);

    jest.resetModules();
    process.env = { ...saved, ...environment, CONSOLE_URL: 'not a url' };
    expect(() => require('../../../functions/consume-face-search/handler')).toThrow(/CONSOLE_URL is invalid/);
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
