import type http from 'node:http';
import { serviceOf } from '../../../local/gateway/server';
import { selectRoute, toResponse } from '../../../local/stack/http-api';
import { functionNameOf } from '../../../local/stack/lambda-api';
import { encodeEventKey, matches, s3Event } from '../../../local/stack/s3-notifications';

const request = (headers: Record<string, string>, url = '/', method = 'POST') => ({ headers, url, method }) as unknown as http.IncomingMessage;
const signed = (service: string) => `AWS4-HMAC-SHA256 Credential=S3RVER/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=abc`;

describe('gateway: the service a request is for', () => {
  test.each(['s3', 'dynamodb', 'kinesis', 'rekognition', 'sns', 'sqs', 'kinesisvideo', 'lambda'])('a request signed for %s goes to %s', (service) => {
    expect(serviceOf(request({ authorization: signed(service) }))).toBe(service);
  });

  test('a presigned URL is routed by its X-Amz-Credential', () => {
    const url = '/bucket/key.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=S3RVER%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=x';

    expect(serviceOf(request({}, url, 'GET'))).toBe('s3');
  });

  test('unsigned requests are recognised by their protocol', () => {
    expect(serviceOf(request({ 'x-amz-target': 'DynamoDB_20120810.ListTables' }))).toBe('dynamodb');
    expect(serviceOf(request({ 'x-amz-target': 'Kinesis_20131202.ListStreams' }))).toBe('kinesis');
    expect(serviceOf(request({ 'x-amz-target': 'RekognitionService.ListCollections' }))).toBe('rekognition');
    expect(serviceOf(request({}, '/getDataEndpoint'))).toBe('kinesisvideo');
    expect(serviceOf(request({ 'content-type': 'application/x-www-form-urlencoded' }, '/'))).toBe('sns');
    expect(serviceOf(request({}, '/bucket/key', 'GET'))).toBeUndefined();
  });
});

describe('HTTP API: route selection as API Gateway does it', () => {
  const target = { invoke: jest.fn() };
  const routes = ['GET /people', 'GET /people/{personId}', 'GET /people/me', 'ANY /people/{personId}', 'GET /files/{path+}', '$default'].map((routeKey) => ({ routeKey, target }));

  test('a literal segment wins over a parameter, a named method over ANY, and the greedy parameter takes the rest', () => {
    expect(selectRoute(routes, 'GET', '/people/me')?.route.routeKey).toBe('GET /people/me');
    expect(selectRoute(routes, 'GET', '/people/ada')).toMatchObject({ route: { routeKey: 'GET /people/{personId}' }, pathParameters: { personId: 'ada' } });
    expect(selectRoute(routes, 'PATCH', '/people/ada')?.route.routeKey).toBe('ANY /people/{personId}');
    expect(selectRoute(routes, 'GET', '/files/a/b.jpg')?.pathParameters).toEqual({ path: 'a/b.jpg' });
  });

  test('path parameters arrive decoded; an unmatched request falls to $default, or to nothing without it', () => {
    expect(selectRoute(routes, 'GET', '/people/Tom-Cruise%3A6d34')?.pathParameters).toEqual({ personId: 'Tom-Cruise:6d34' });
    expect(selectRoute(routes, 'POST', '/nowhere')?.route.routeKey).toBe('$default');
    expect(selectRoute(routes.slice(0, 2), 'POST', '/nowhere')).toBeUndefined();
  });

  test('a result without statusCode is a 200 JSON body; a proxy result keeps its status, headers, cookies and base64 body', () => {
    expect(toResponse({ people: [] })).toEqual({ status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"people":[]}') });
    const proxied = toResponse({ statusCode: 201, headers: { 'X-Id': 7 }, cookies: ['a=1'], body: Buffer.from('hi').toString('base64'), isBase64Encoded: true });
    expect(proxied).toEqual({ status: 201, headers: { 'x-id': '7', 'set-cookie': ['a=1'] }, body: Buffer.from('hi') });
  });
});

describe('S3 notifications', () => {
  test('keys are URL-encoded with + for spaces, slashes kept, as S3 sends them', () => {
    expect(encodeEventKey('faces/Ada Lovelace/photo 1.jpg')).toBe('faces/Ada+Lovelace/photo+1.jpg');
    expect(encodeEventKey('faces/José/a+b.jpg')).toBe('faces/Jos%C3%A9/a%2Bb.jpg');
    // What handlers do with it gives the key back.
    expect(decodeURIComponent(encodeEventKey('faces/Ada Lovelace/a+b (1).jpg').replace(/\+/g, ' '))).toBe('faces/Ada Lovelace/a+b (1).jpg');
  });

  test('the event pattern and prefix/suffix filters select the changes', () => {
    const created = { event: 's3:ObjectCreated:*', functionArn: 'fn', prefix: 'faces/', configurationId: 'c' };

    expect(matches(created, { bucket: 'b', key: 'faces/x.jpg', eventName: 'ObjectCreated:Put' })).toBe(true);
    expect(matches(created, { bucket: 'b', key: 'other/x.jpg', eventName: 'ObjectCreated:Put' })).toBe(false);
    expect(matches(created, { bucket: 'b', key: 'faces/x.jpg', eventName: 'ObjectRemoved:Delete' })).toBe(false);
    expect(matches({ ...created, event: 's3:ObjectCreated:Copy' }, { bucket: 'b', key: 'faces/x.jpg', eventName: 'ObjectCreated:Put' })).toBe(false);
    expect(matches({ ...created, suffix: '.png' }, { bucket: 'b', key: 'faces/x.jpg', eventName: 'ObjectCreated:Put' })).toBe(false);
  });

  test('the event has the shape of a real S3 event', () => {
    const event = s3Event({ bucket: 'faces-bucket', key: 'faces/Ada Lovelace/1.jpg', eventName: 'ObjectCreated:Put', size: 42, eTag: 'abc' }, 'cfg', 'us-east-1');

    expect(event.Records[0]).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventName: 'ObjectCreated:Put',
      s3: { configurationId: 'cfg', bucket: { name: 'faces-bucket', arn: 'arn:aws:s3:::faces-bucket' }, object: { key: 'faces/Ada+Lovelace/1.jpg', size: 42, eTag: 'abc' } },
    });
    const removed = s3Event({ bucket: 'b', key: 'k', eventName: 'ObjectRemoved:Delete' }, 'cfg', 'us-east-1');
    expect(removed.Records[0].s3.object).not.toHaveProperty('size');
  });
});

describe('Lambda API', () => {
  test('a function is named by name, ARN or partial ARN, with or without a qualifier', () => {
    expect(functionNameOf('svc-local-processVideo')).toBe('svc-local-processVideo');
    expect(functionNameOf('arn:aws:lambda:us-east-1:000000000000:function:svc-local-processVideo')).toBe('svc-local-processVideo');
    expect(functionNameOf('arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Asvc%3A%24LATEST')).toBe('svc');
    expect(functionNameOf('000000000000:function:svc')).toBe('svc');
    expect(functionNameOf('svc:prod')).toBe('svc');
  });
});
