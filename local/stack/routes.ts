/**
 * The HTTP API from the template's AWS::ApiGatewayV2 routes and integrations: each route to the function
 * its Lambda integration names, with its timeout, and the API's CORS configuration, served on one port.
 */
import path from 'node:path';
import type { LocalFunction } from './functions';
import { startHttpApi, type CorsConfiguration, type HttpApi, type HttpApiOptions, type HttpRoute } from './http-api';
import type { ApiParts } from './provisioners';
import type { StackInfo } from './stack-info';
import { LOCAL_ACCOUNT_ID, type EvaluatedTemplate } from './template';

export interface RouteIntegration {
  functionArn: string;
  timeoutMs?: number;
  payloadFormatVersion?: string;
}

/** The Lambda integration a route's Target names, if it is one of the stack's. */
export function integrationOf(cfn: EvaluatedTemplate, apiParts: ApiParts, routeId: string): RouteIntegration | undefined {
  const target = String(cfn.properties(routeId).Target ?? '');
  const integrationId = apiParts.integrations.get(target.replace(/^integrations\//, ''));
  if (!integrationId) return undefined;
  const p = cfn.properties(integrationId);
  return { functionArn: String(p.IntegrationUri), timeoutMs: p.TimeoutInMillis as number | undefined, payloadFormatVersion: p.PayloadFormatVersion as string | undefined };
}

/** The ARNs of the functions behind the API's routes (they are given the API token's hash). */
export function apiFunctionArns(cfn: EvaluatedTemplate, apiParts: ApiParts): Set<string> {
  return new Set(apiParts.routes.map((r) => integrationOf(cfn, apiParts, r)?.functionArn).filter(Boolean) as string[]);
}

export interface HttpApiWiring {
  cfn: EvaluatedTemplate;
  apiParts: ApiParts;
  functionOf: (nameOrArn: string) => LocalFunction | undefined;
  port: number;
  host: string;
  /** Named in the line saying that the API token stands in for AWS_IAM authorization. */
  dataDir: string;
  warn: (line: string) => void;
  debug: (line: string) => void;
  /** Pages served beside the routes (the console, CloudFront's part on AWS). */
  site?: HttpApiOptions['site'];
}

/** Starts the HTTP API; answers it and its routes as stack.json lists them. */
export async function startRoutes({ cfn, apiParts, functionOf, port, host, dataDir, warn, debug, site }: HttpApiWiring): Promise<{ api: HttpApi; routes: StackInfo['routes'] }> {
  const routes: HttpRoute[] = [];
  const routeInfo: StackInfo['routes'] = [];
  let authorizedRoutes = 0;
  for (const id of apiParts.routes) {
    const p = cfn.properties(id);
    const integration = integrationOf(cfn, apiParts, id);
    const fn = integration && functionOf(integration.functionArn);
    if (!integration || !fn) {
      warn(`${id}: route ${p.RouteKey} has no Lambda integration of the stack; skipped`);
      continue;
    }
    if (integration.payloadFormatVersion && integration.payloadFormatVersion !== '2.0') warn(`${id}: payload format ${integration.payloadFormatVersion} is served as 2.0 locally`);
    // On AWS the API's callers sign with IAM (the /api twins: a Cognito token); locally the handlers check the bearer token instead.
    if (p.AuthorizationType === 'AWS_IAM' || p.AuthorizationType === 'JWT') authorizedRoutes += 1;
    else if (p.AuthorizationType && p.AuthorizationType !== 'NONE') warn(`${id}: authorization ${p.AuthorizationType} is not enforced locally`);
    routes.push({ routeKey: String(p.RouteKey), target: fn, timeoutMs: integration.timeoutMs });
    routeInfo.push({ routeKey: String(p.RouteKey), function: fn.definition.logicalId });
  }
  if (authorizedRoutes) debug(`${authorizedRoutes} route(s) use AWS_IAM or JWT authorization: locally the API token (${path.join(dataDir, 'api-token')}) stands in for both`);
  if (apiParts.apis.length > 1) warn(`the template declares ${apiParts.apis.length} HTTP APIs; their routes are all served on one port`);
  const cors = apiParts.apis.map((id) => cfn.properties(id).CorsConfiguration as CorsConfiguration | undefined).find(Boolean);
  const api = await startHttpApi({ port, host, routes, cors, accountId: LOCAL_ACCOUNT_ID, apiId: 'local', log: debug, site }).catch((e) => {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`Port ${port} (HTTP API) is already in use on 127.0.0.1. Stop what uses it, or choose another port with --api-port <port>.`);
    throw e;
  });
  return { api, routes: routeInfo };
}
