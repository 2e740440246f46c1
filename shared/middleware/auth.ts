import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ConfigError } from '../config';
import { UnauthorizedError } from '../errors';

/**
 * What API Gateway puts in the request context when an authorizer accepted the request: `iam` from the IAM
 * authorizer (a SigV4 signature, the original routes), `jwt` from the JWT authorizer (a Cognito token, the
 * console's /api twins: resources/api-twins.js).
 */
interface AuthorizerContext {
  authorizer?: {
    iam?: { accessKey?: string; userArn?: string; callerId?: string };
    jwt?: { claims?: Record<string, unknown>; scopes?: string[] | null };
  };
}

/** A JWT context counts only with the claims of a validated token: at least its subject. */
const hasJwtCaller = (jwt: { claims?: Record<string, unknown> } | undefined): boolean =>
  typeof jwt?.claims === 'object' && jwt.claims !== null && typeof jwt.claims.sub === 'string' && jwt.claims.sub !== '';

/**
 * Every API route requires a caller. On AWS, API Gateway's authorizer checks the credentials and passes the
 * caller in the request context — requestContext.authorizer.iam (IAM authorizer, SigV4) or
 * requestContext.authorizer.jwt (JWT authorizer, the user pool's token: the console's /api routes); this
 * middleware refuses a request with neither (defence in depth: a route deployed without an authorizer stays
 * closed). The local stack has neither: it sets API_TOKEN_SHA256 (hex SHA-256 of the token in
 * .facewatch/api-token) and callers of both paths send `Authorization: Bearer <token>`.
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
      const authorizer = (request.event.requestContext as AuthorizerContext | undefined)?.authorizer;
      if (!authorizer?.iam && !hasJwtCaller(authorizer?.jwt)) {
        throw new UnauthorizedError('Missing credentials: sign the request with AWS SigV4 (service execute-api), or sign in to the console (/api routes)');
      }
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
