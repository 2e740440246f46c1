import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { AppError, ValidationError } from '../errors';
import { logger } from '../observability';
import { requireCaller } from './auth';

/**
 * API handlers: thin functions (event → result) wrapped with the checks every route shares: caller
 * authentication, then JSON responses and error mapping by class. Errors answer
 * {"error":{"code","message","field"?,"details"?,"requestId"}}; an unexpected error is a 500 with the request id only.
 */
export type ApiEvent = APIGatewayProxyEventV2;
export type ApiResult = APIGatewayProxyStructuredResultV2;
export type RawApiHandler = (event: ApiEvent, context: Context) => Promise<ApiResult>;

export function apiHandler(raw: RawApiHandler, source: NodeJS.ProcessEnv = process.env) {
  return middy<ApiEvent, ApiResult>(raw).use(jsonErrors()).use(requireCaller(source));
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

export function requestIdOf(event: ApiEvent | undefined, context: Context | undefined): string {
  return event?.requestContext?.requestId ?? context?.awsRequestId ?? 'unknown';
}

function jsonErrors(): MiddlewareObj<ApiEvent, ApiResult> {
  return {
    onError: async (request) => {
      const error = request.error as Error;
      const requestId = requestIdOf(request.event, request.context);
      if (error instanceof AppError) {
        const { field, ...details } = error.details ?? {};
        if (error.statusCode >= 500) logger.error('Request failed', { requestId, error });
        else logger.info('Request refused', { requestId, code: error.code, reason: error.message });
        request.response = json(
          error.statusCode,
          {
            error: {
              code: error.code,
              message: error.message,
              ...(typeof field === 'string' ? { field } : {}),
              ...(Object.keys(details).length > 0 ? { details } : {}),
              requestId,
            },
          },
          error.statusCode === 401 ? { 'www-authenticate': 'Bearer' } : {},
        );
        return;
      }
      logger.error('Unexpected error', { requestId, error });
      request.response = json(500, {
        error: { code: 'InternalError', message: 'Something went wrong on our side: quote the request id if you report it', requestId },
      });
    },
  };
}

/** Validates one part of the request; the first problem becomes a 400 naming the field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, part: 'path' | 'query' | 'body'): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.length > 0 ? issue.path.join('.') : part;
  throw new ValidationError(`${field}: ${issue.message}`, { field });
}

/** The JSON body of a request (an empty body is {}); malformed JSON is a 400 on field "body". */
export function jsonBody(event: ApiEvent): unknown {
  if (!event.body) return {};
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError('body: is not valid JSON', { field: 'body' });
  }
}
