/** API Gateway HTTP API (payload 2.0) events, as the IAM (or, with `jwt`, the JWT) authorizer delivers them, for handler tests. */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

export interface ApiRequest {
  method: string;
  path: string;
  /** The route as declared, e.g. "/people/{personId}". */
  route?: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
  /** false: no IAM caller in the request context (as if the authorizer were missing). */
  iam?: boolean;
  /** The claims the JWT authorizer passes (the console's /api routes): replaces the IAM caller. */
  jwt?: Record<string, unknown>;
}

let counter = 0;

export function apiEvent(request: ApiRequest): APIGatewayProxyEventV2 {
  const requestId = `req-${++counter}`;
  const query = request.query ?? {};
  const rawQueryString = new URLSearchParams(query).toString();
  const event = {
    version: '2.0',
    routeKey: `${request.method} ${request.route ?? request.path}`,
    rawPath: request.path,
    rawQueryString,
    headers: { host: 'api.example.com', ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}), ...request.headers },
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(request.pathParameters ? { pathParameters: request.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method: request.method, path: request.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId,
      routeKey: `${request.method} ${request.route ?? request.path}`,
      stage: '$default',
      time: '01/Mar/2025:10:00:00 +0000',
      timeEpoch: 1740823200000,
      ...(request.jwt
        ? { authorizer: { jwt: { claims: request.jwt, scopes: null } } }
        : request.iam === false
        ? {}
        : { authorizer: { iam: { accessKey: 'AKIATEST', accountId: '000000000000', callerId: 'AIDATEST', userArn: 'arn:aws:iam::000000000000:user/tester', userId: 'AIDATEST' } } }),
    },
    ...(request.body !== undefined ? { body: typeof request.body === 'string' ? request.body : JSON.stringify(request.body) } : {}),
    isBase64Encoded: false,
  };
  return event as unknown as APIGatewayProxyEventV2;
}

export const lambdaContext = { awsRequestId: 'lambda-request', functionName: 'test' } as unknown as Context;

/** Calls a middy-wrapped API handler and parses its JSON body. */
export async function invoke(
  handler: (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>,
  request: ApiRequest,
): Promise<{ statusCode: number; headers: Record<string, string>; body: any }> {
  const result = (await handler(apiEvent(request), lambdaContext)) as { statusCode: number; headers: Record<string, string>; body: string };
  return { statusCode: result.statusCode, headers: result.headers, body: result.body ? JSON.parse(result.body) : undefined };
}
