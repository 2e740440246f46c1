'use strict';
/**
 * The console's twin of every API route, decided at package time.
 *
 * Machine clients call the API as they always have: each route declared in serverless.yml keeps API Gateway's IAM
 * authorizer (SigV4). The operator console (a browser, signed in with Cognito) cannot sign with SigV4, so every
 * `httpApi` event whose authorizer is `aws_iam` gets a twin: the same method, the path under `/api`, the same
 * function, behind the JWT authorizer named by `custom.apiTwins.authorizer` (provider.httpApi.authorizers). A route
 * added later gets its twin by itself. CloudFront sends the console's `/api/*` to the HTTP API unchanged, so the
 * page and the API share one origin.
 *
 * Every route must keep an authorizer: an `httpApi` event without one fails the package.
 * Runs before the framework compiles the events (`before:package:compileEvents`), so the twins become ordinary
 * routes, integrations and permissions of the template.
 */
const PREFIX = '/api';

class ApiTwinsError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ApiTwinsError';
  }
}

/** `{ method, path, authorizer }` of an httpApi event, whichever form it was written in. */
function routeOf(httpApi) {
  if (typeof httpApi === 'string') {
    const [method, path] = httpApi.trim().split(/\s+/);
    return { method, path, authorizer: undefined };
  }
  return { method: httpApi.method, path: httpApi.path, authorizer: httpApi.authorizer };
}

const isIam = (authorizer) => authorizer !== null && typeof authorizer === 'object' && authorizer.type === 'aws_iam';
const isTwin = (path, prefix) => path === prefix || String(path).startsWith(`${prefix}/`);

/**
 * Adds the twins to `functions` (serverless.service.functions, changed in place) and answers the routes added,
 * as `METHOD /path`. Idempotent: a twin already there is not added twice.
 */
function addApiTwins(functions, { authorizer, prefix = PREFIX } = {}) {
  if (!authorizer) throw new ApiTwinsError('api-twins: name the JWT authorizer of the twins in custom.apiTwins.authorizer');
  const added = [];
  for (const [name, fn] of Object.entries(functions ?? {})) {
    const events = fn.events ?? [];
    const twins = [];
    for (const event of events) {
      if (!event || !event.httpApi) continue;
      const { method, path, authorizer: declared } = routeOf(event.httpApi);
      const route = `${String(method ?? '').toUpperCase()} ${path}`;
      if (!declared) {
        throw new ApiTwinsError(`api-twins: route ${route} of function ${name} has no authorizer; every route keeps one (authorizer: { type: aws_iam })`);
      }
      if (isTwin(path, prefix)) {
        // A twin (ours, from an earlier pass) or a route declared under the console's prefix by hand.
        if (isIam(declared)) throw new ApiTwinsError(`api-twins: route ${route} of function ${name} is under ${prefix}, which is reserved for the console's twins`);
        continue;
      }
      if (!isIam(declared)) continue;
      if (path === '*' || !String(path).startsWith('/')) throw new ApiTwinsError(`api-twins: route ${route} of function ${name} has no path to put under ${prefix}`);
      const twinPath = `${prefix}${path}`;
      const exists = events.some((e) => e && e.httpApi && routeOf(e.httpApi).path === twinPath && String(routeOf(e.httpApi).method).toUpperCase() === String(method).toUpperCase());
      if (exists) continue;
      twins.push({ httpApi: { method, path: twinPath, authorizer: { name: authorizer } } });
      added.push(`${String(method).toUpperCase()} ${twinPath}`);
    }
    if (twins.length) fn.events = [...events, ...twins];
  }
  return added;
}

class ApiTwins {
  constructor(serverless, _options, utils) {
    this.serverless = serverless;
    this.log = utils?.log;
    this.hooks = { 'before:package:compileEvents': () => this.generate() };
  }

  generate() {
    const service = this.serverless.service;
    const authorizer = service.custom?.apiTwins?.authorizer;
    const declared = service.provider.httpApi?.authorizers ?? {};
    if (!authorizer || !declared[authorizer]) {
      throw new ApiTwinsError(`api-twins: custom.apiTwins.authorizer must name one of provider.httpApi.authorizers (${Object.keys(declared).join(', ') || 'none declared'})`);
    }
    if (declared[authorizer].type !== 'jwt') throw new ApiTwinsError(`api-twins: authorizer ${authorizer} must be of type jwt`);
    const added = addApiTwins(service.functions, { authorizer });
    this.log?.verbose?.(`api-twins: ${added.length} console route(s) under ${PREFIX} behind ${authorizer}: ${added.join(', ')}`);
  }
}

module.exports = ApiTwins;
module.exports.addApiTwins = addApiTwins;
module.exports.ApiTwinsError = ApiTwinsError;
module.exports.PREFIX = PREFIX;
