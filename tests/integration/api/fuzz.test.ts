/**
 * Every API route and parameter of openapi.yaml, fuzzed with fast-check against the real handlers (dynalite,
 * s3rver, the local Rekognition): whatever the parameters and body, the answer is never a 5xx, never carries a
 * stack trace, and every error has the documented shape {"error": {"code", "message", "requestId"}} with a
 * documented code. Runs are bounded (npm test stays fast).
 */
import '../../support/quiet-logs';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import YAML from 'yaml';
import { invoke } from '../../support/api-events';
import { cameraResourcesEnv, createFacesBucket, createTables, startLocalAws, type LocalAws } from '../../support/local-aws';
import { createCollection, startLocalRekognition, type LocalRekognition } from '../../support/local-rekognition';

jest.setTimeout(180_000);

const ROOT = path.resolve(__dirname, '../../..');
const STAGE = 'fuzz';
const TOKEN = 'fuzz-token';
const RUNS_PER_ROUTE = 25;
const CODES = ['ValidationError', 'Unauthorized', 'NotFound', 'Conflict', 'NotImplemented', 'InternalError'];

interface Route {
  method: string;
  path: string;
  handler: string;
  parameters: { name: string; in: 'query' | 'path' }[];
  hasBody: boolean;
}

const cfnTags = ['Ref', 'GetAtt', 'Sub', 'Join', 'If', 'Equals', 'Not', 'Select', 'Split', 'ImportValue', 'FindInMap', 'Base64'].flatMap((name) =>
  (['scalar', 'seq', 'map'] as const).map((collection) => ({ tag: `!${name}`, collection: collection === 'scalar' ? undefined : collection, resolve: () => `!${name}` })),
);

/** openapi.yaml's operations, each with the function serverless.yml routes it to. */
function routes(): Route[] {
  const document = YAML.parse(fs.readFileSync(path.join(ROOT, 'openapi.yaml'), 'utf8'));
  const service = YAML.parse(fs.readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8'), { customTags: cfnTags as never, merge: true });
  const handlerOf = new Map<string, string>();
  for (const fn of Object.values<{ handler: string; events?: Record<string, unknown>[] }>(service.functions ?? {})) {
    for (const event of fn.events ?? []) {
      const http = event.httpApi as string | { method: string; path: string } | undefined;
      if (!http) continue;
      handlerOf.set(typeof http === 'string' ? http.replace(/\s+/, ' ') : `${http.method.toUpperCase()} ${http.path}`, fn.handler.replace(/\.handler$/, ''));
    }
  }
  const resolve = (p: { $ref?: string }) => (p.$ref ? p.$ref.split('/').slice(1).reduce((o: any, k) => o[k], document) : p);
  const list: Route[] = [];
  for (const [route, operations] of Object.entries<Record<string, any>>(document.paths)) {
    for (const [method, operation] of Object.entries<any>(operations)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const key = `${method.toUpperCase()} ${route}`;
      const handler = handlerOf.get(key);
      if (!handler) throw new Error(`${key} of openapi.yaml has no function in serverless.yml`);
      list.push({
        method: method.toUpperCase(),
        path: route,
        handler,
        parameters: [...(operations.parameters ?? []), ...(operation.parameters ?? [])].map(resolve).map((p: any) => ({ name: p.name, in: p.in })),
        hasBody: Boolean(operation.requestBody),
      });
    }
  }
  return list;
}

/** Values a caller might send: plausible, empty, huge, numeric, unicode, injection-like, encoded. */
const value = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom('', ' ', '0', '-1', '101', '1e309', 'NaN', 'null', 'undefined', '../..', '%00', '\u0000', '{"a":1}', 'front-door', 'ada-lovelace', "' OR 1=1 --", '<script>'),
  fc.string({ minLength: 2000, maxLength: 5000 }),
  fc.base64String(),
);
const body = fc.oneof(fc.json(), fc.jsonValue().map((v) => JSON.stringify(v)), fc.string(), fc.constantFrom('{', '[]', 'null', '{"displayName":""}', '{"rules":{"muted":"yes"}}'));

describe('API fuzzing (openapi.yaml)', () => {
  let aws: LocalAws;
  let rekognition: LocalRekognition;
  const handlers = new Map<string, Parameters<typeof invoke>[0]>();

  beforeAll(async () => {
    aws = await startLocalAws({ dynamodb: true, s3: true });
    const tables = await createTables(aws.dynamodb, STAGE);
    const bucket = await createFacesBucket(aws.s3!, STAGE);
    rekognition = await startLocalRekognition({ s3Endpoint: aws.endpoints.s3, warmUp: false, runner: { start: async () => undefined, stop: async () => undefined } });
    await createCollection(rekognition.client, `facewatch-${STAGE}-faces`);
    await createCollection(rekognition.client, `facewatch-${STAGE}-visitors`);
    Object.assign(process.env, {
      PEOPLE_TABLE: tables.PeopleTable,
      SIGHTINGS_TABLE: tables.SightingsTable,
      ALERT_STATE_TABLE: tables.AlertStateTable,
      COLLECTION_ID: `facewatch-${STAGE}-faces`,
      VISITORS_TABLE: tables.VisitorsTable,
      VISITOR_COLLECTION_ID: `facewatch-${STAGE}-visitors`,
      FACES_BUCKET: bucket,
      CAMERA_RESOURCES: cameraResourcesEnv(STAGE, ['front-door', 'garage']),
      PROCESSOR_MODE: 'managed',
      SIGHTING_RETENTION_DAYS: '30',
      API_TOKEN_SHA256: createHash('sha256').update(TOKEN).digest('hex'),
    });
  });
  afterAll(async () => {
    await rekognition?.stop();
    await aws?.stop();
  });

  it.each(routes().map((r) => [`${r.method} ${r.path}`, r] as const))('%s: never a 5xx, never a stack trace, always the documented error shape', async (_, route) => {
    if (!handlers.has(route.handler)) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      handlers.set(route.handler, require(path.join(ROOT, route.handler)).handler);
    }
    const handler = handlers.get(route.handler)!;
    const query = route.parameters.filter((p) => p.in === 'query').map((p) => p.name);
    const pathParams = route.parameters.filter((p) => p.in === 'path').map((p) => p.name);
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom(...query, 'unexpected'), value, { maxKeys: query.length + 1 }),
        fc.record(Object.fromEntries(pathParams.map((p) => [p, value]))),
        route.hasBody ? fc.option(body, { nil: undefined }) : fc.constant(undefined),
        fc.constantFrom(`Bearer ${TOKEN}`, `Bearer ${TOKEN}`, `Bearer ${TOKEN}`, '', 'Bearer wrong', 'Basic x'),
        async (queryValues, pathValues, requestBody, authorization) => {
          const concretePath = pathParams.reduce((p, name) => p.replace(`{${name}}`, encodeURIComponent((pathValues as Record<string, string>)[name])), route.path);
          const response = await invoke(handler, {
            method: route.method,
            path: concretePath,
            route: route.path,
            pathParameters: pathParams.length ? (pathValues as Record<string, string>) : undefined,
            query: queryValues,
            body: requestBody,
            headers: authorization ? { authorization } : {},
            iam: false,
          });
          statuses.add(response.statusCode);
          expect(response.statusCode).toBeLessThan(500);
          const text = JSON.stringify(response.body ?? '');
          expect(text).not.toMatch(/\n\s+at |at .+\.(js|ts):\d+/);
          if (response.statusCode >= 400) {
            expect(response.body).toEqual({ error: expect.objectContaining({ code: expect.any(String), message: expect.any(String), requestId: expect.any(String) }) });
            expect(CODES).toContain(response.body.error.code);
          }
        },
      ),
      { numRuns: RUNS_PER_ROUTE },
    );
    // The runs got past the token check: the parameters themselves were exercised.
    expect([...statuses].some((s) => s !== 401)).toBe(true);
  });
});
