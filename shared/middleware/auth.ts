import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ConfigError } from '../config';
import { UnauthorizedError } from '../errors';

/** What API Gateway puts in the request context when its IAM authorizer accepted the signature. */
interface IamAuthorizerContext {
  authorizer?: { iam?: { accessKey?: string; userArn?: string; callerId?: string } };
}

/**
 * Every API route requires a caller. On AWS, API Gateway's IAM authorizer checks the SigV4 signature and
 * passes the caller in requestContext.authorizer.iam; this middleware refuses a request without one (defence
 * in depth: a route deployed without the authorizer stays closed). The local stack has no IAM: it sets
 * API_TOKEN_SHA256 (hex SHA-256 of the token in .facewatch/api-token) and callers send `Authorization: Bearer`.
 */
export function requireCaller(source: NodeJS.ProcessEnv = process.env): MiddlewareObj<APIGatewayProxyEventV2> {
  const expected = tokenDigest(source.API_TOKEN_SHA256);
  return {
    before: async (request) => {
      if (expected) {
        const header = headerOf(request.event, 'authorization');
        const token = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
        const digest = token ? createHash('sha256').update(token, 'utf8').digest() : undefined;
        if (!digest || !timingSafeEqual(digest, expected)) {
          throw new UnauthorizedError(
            header ? 'The bearer token is not valid: use the token in .facewatch/api-token' : 'Missing credentials: send "Authorization: Bearer <token from .facewatch/api-token>"',
          );
        }
        return;
      }
      const iam = (request.event.requestContext as IamAuthorizerContext | undefined)?.authorizer?.iam;
      if (!iam) throw new UnauthorizedError('Missing credentials: sign the request with AWS SigV4 (service execute-api)');
    },
  };
}

function tokenDigest(hex: string | undefined): Buffer | undefined {
  if (hex === undefined || hex.trim() === '') return undefined;
  if (!/^[0-9a-fA-F]{64}$/.test(hex.trim())) throw new ConfigError('API_TOKEN_SHA256 is invalid: give the hex SHA-256 (64 characters) of the API token');
  return Buffer.from(hex.trim(), 'hex');
}

/** HTTP API (payload 2.0) lowercases header names; a hand-made event may not. */
export function headerOf(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const headers = event.headers ?? {};
  const match = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return match === undefined ? undefined : headers[match];
}
