import { evaluate, type PolicyStatement } from '../../../local/gateway/iam';
import { authorizationOf } from '../../../local/gateway/requests';

const ctx = { region: 'us-east-1', accountId: '000000000000' };
const json = (target: string) => ({ headers: { 'x-amz-target': target }, url: '/', method: 'POST' });
const buf = (body: object) => Buffer.from(JSON.stringify(body));

describe('local IAM: requests to actions and resources', () => {
  it('names the action and resource ARN of each service’s requests', () => {
    expect(authorizationOf('dynamodb', json('DynamoDB_20120810.PutItem'), buf({ TableName: 'people' }), ctx)).toEqual({ action: 'dynamodb:PutItem', resources: ['arn:aws:dynamodb:us-east-1:000000000000:table/people'] });
    expect(authorizationOf('dynamodb', json('DynamoDB_20120810.Query'), buf({ TableName: 'people', IndexName: 'byName' }), ctx).resources).toEqual(['arn:aws:dynamodb:us-east-1:000000000000:table/people/index/byName']);
    expect(authorizationOf('dynamodb', json('DynamoDB_20120810.BatchWriteItem'), buf({ RequestItems: { a: [], b: [] } }), ctx).resources).toHaveLength(2);
    expect(authorizationOf('kinesis', json('Kinesis_20131202.PutRecord'), buf({ StreamName: 's' }), ctx)).toEqual({ action: 'kinesis:PutRecord', resources: ['arn:aws:kinesis:us-east-1:000000000000:stream/s'] });
    expect(authorizationOf('rekognition', json('RekognitionService.SearchFaces'), buf({ CollectionId: 'c' }), ctx).resources).toEqual(['arn:aws:rekognition:us-east-1:000000000000:collection/c']);
    expect(authorizationOf('rekognition', json('RekognitionService.DetectFaces'), buf({}), ctx).resources).toEqual(['*']);
    expect(authorizationOf('sqs', json('AmazonSQS.SendMessageBatch'), buf({ QueueUrl: 'http://x/000000000000/dlq' }), ctx)).toEqual({ action: 'sqs:SendMessage', resources: ['arn:aws:sqs:us-east-1:000000000000:dlq'] });
    const sns = { headers: {}, url: '/', method: 'POST' };
    expect(authorizationOf('sns', sns, Buffer.from('Action=Publish&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Aalerts'), ctx)).toEqual({ action: 'sns:Publish', resources: ['arn:aws:sns:us-east-1:000000000000:alerts'] });
    expect(authorizationOf('s3', { headers: {}, url: '/bucket/faces/Ada%20L/1.jpg', method: 'GET' }, undefined, ctx)).toEqual({ action: 's3:GetObject', resources: ['arn:aws:s3:::bucket/faces/Ada L/1.jpg'] });
    expect(authorizationOf('s3', { headers: {}, url: '/bucket?list-type=2', method: 'GET' }, undefined, ctx)).toEqual({ action: 's3:ListBucket', resources: ['arn:aws:s3:::bucket'] });
    // DeleteObjects is s3:DeleteObject on each key of its body; CopyObject also reads its source
    expect(
      authorizationOf('s3', { headers: {}, url: '/bucket?delete', method: 'POST' }, Buffer.from('<Delete><Object><Key>snapshots/cam/a.jpg</Key></Object><Object><Key>faces/A &amp; B/1.jpg</Key></Object></Delete>'), ctx),
    ).toEqual({ action: 's3:DeleteObject', resources: ['arn:aws:s3:::bucket/snapshots/cam/a.jpg', 'arn:aws:s3:::bucket/faces/A & B/1.jpg'] });
    expect(authorizationOf('s3', { headers: { 'x-amz-copy-source': 'bucket/snapshots/cam/a.jpg' }, url: '/bucket/faces/Ada%20L/visitor-v-1.jpg', method: 'PUT' }, undefined, ctx)).toEqual({
      action: 's3:PutObject',
      resources: ['arn:aws:s3:::bucket/faces/Ada L/visitor-v-1.jpg'],
      also: [{ action: 's3:GetObject', resources: ['arn:aws:s3:::bucket/snapshots/cam/a.jpg'] }],
    });
    expect(authorizationOf('lambda', { headers: {}, url: '/2015-03-31/functions/f/invocations', method: 'POST' }, undefined, ctx)).toEqual({ action: 'lambda:InvokeFunction', resources: ['arn:aws:lambda:us-east-1:000000000000:function:f'] });
    expect(
      authorizationOf('kinesisvideo', { headers: {}, url: '/getDataEndpoint', method: 'POST' }, buf({ StreamName: 'cam' }), { ...ctx, videoStreamArn: () => 'arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam/17' }),
    ).toEqual({ action: 'kinesisvideo:GetDataEndpoint', resources: ['arn:aws:kinesisvideo:us-east-1:000000000000:stream/cam/17'] });
  });
});

describe('local IAM: policy evaluation', () => {
  const table = 'arn:aws:dynamodb:us-east-1:000000000000:table/people';
  const policy: PolicyStatement[] = [
    { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:Put*'], Resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/peo?le' },
    { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/faces/*' },
    { Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::bucket/faces/secret/*' },
    { Effect: 'Allow', Action: 'rekognition:DetectFaces', Resource: '*' },
  ];

  it('allows what a statement allows, with wildcards in actions (case-insensitive) and resources', () => {
    expect(evaluate(policy, 'dynamodb:PutItem', [table])).toEqual({ allowed: true });
    expect(evaluate(policy, 'DynamoDB:getitem', [table])).toEqual({ allowed: true });
    expect(evaluate(policy, 's3:GetObject', ['arn:aws:s3:::bucket/faces/Ada/1.jpg'])).toEqual({ allowed: true });
    expect(evaluate(policy, 'rekognition:DetectFaces', ['*'])).toEqual({ allowed: true });
  });

  it('denies implicitly what nothing allows, and an explicit Deny wins over an Allow', () => {
    expect(evaluate(policy, 'dynamodb:DeleteItem', [table])).toEqual({ allowed: false, explicit: false, action: 'dynamodb:DeleteItem', resource: table });
    expect(evaluate(policy, 'dynamodb:PutItem', ['arn:aws:dynamodb:us-east-1:000000000000:table/other'])).toMatchObject({ allowed: false, explicit: false });
    expect(evaluate(policy, 's3:GetObject', ['arn:aws:s3:::bucket/faces/secret/x.jpg'])).toMatchObject({ allowed: false, explicit: true });
    expect(evaluate(policy, 'dynamodb:PutItem', [table, 'arn:aws:dynamodb:us-east-1:000000000000:table/other'])).toMatchObject({ allowed: false });
    expect(evaluate([{ Effect: 'Allow', NotAction: 'dynamodb:DeleteItem', Resource: '*' }], 'dynamodb:DeleteItem', [table])).toMatchObject({ allowed: false });
  });
});
