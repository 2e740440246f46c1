/** resources/api-twins.js: the console's /api twin of every IAM route, generated at package time. */
type HttpApiEvent = { httpApi: string | { method?: string; path?: string; authorizer?: unknown } };
type Functions = Record<string, { handler?: string; events?: (HttpApiEvent | Record<string, unknown>)[] }>;
const ApiTwins = require('../../../resources/api-twins') as {
  new (serverless: unknown, options: unknown, utils: unknown): { hooks: Record<string, () => void> };
  addApiTwins(functions: Functions, options: { authorizer?: string; prefix?: string }): string[];
};
const { addApiTwins } = ApiTwins;

const iam = { type: 'aws_iam' };
const routesOf = (functions: Functions) =>
  Object.entries(functions).flatMap(([name, fn]) =>
    (fn.events ?? [])
      .filter((e): e is HttpApiEvent => 'httpApi' in e)
      .map((e) => ({ name, ...(e.httpApi as { method?: string; path?: string; authorizer?: unknown }) })),
  );

describe('addApiTwins', () => {
  it('gives every IAM route a twin under /api: same method, same function, the JWT authorizer; the original stays as it was', () => {
    const functions: Functions = {
      listSightings: { handler: 'h', events: [{ httpApi: { method: 'GET', path: '/sightings', authorizer: iam } }] },
      updatePerson: { handler: 'h', events: [{ httpApi: { method: 'PATCH', path: '/people/{personId}', authorizer: iam } }, { schedule: 'rate(5 minutes)' }] },
    };
    const added = addApiTwins(functions, { authorizer: 'cognito' });
    expect(added.sort()).toEqual(['GET /api/sightings', 'PATCH /api/people/{personId}']);
    expect(routesOf(functions)).toEqual([
      { name: 'listSightings', method: 'GET', path: '/sightings', authorizer: iam },
      { name: 'listSightings', method: 'GET', path: '/api/sightings', authorizer: { name: 'cognito' } },
      { name: 'updatePerson', method: 'PATCH', path: '/people/{personId}', authorizer: iam },
      { name: 'updatePerson', method: 'PATCH', path: '/api/people/{personId}', authorizer: { name: 'cognito' } },
    ]);
    // other events are kept, in place
    expect(functions.updatePerson.events?.[1]).toEqual({ schedule: 'rate(5 minutes)' });
  });

  it('gives a route added later its twin by itself (e.g. GET /visitors, POST /sightings/{sightingId}/identify)', () => {
    const functions: Functions = {
      listVisitors: { events: [{ httpApi: { method: 'GET', path: '/visitors', authorizer: iam } }] },
      identifySighting: { events: [{ httpApi: { method: 'POST', path: '/sightings/{sightingId}/identify', authorizer: iam } }] },
    };
    expect(addApiTwins(functions, { authorizer: 'cognito' }).sort()).toEqual(['GET /api/visitors', 'POST /api/sightings/{sightingId}/identify']);
  });

  it('is idempotent: a second pass adds nothing', () => {
    const functions: Functions = { f: { events: [{ httpApi: { method: 'GET', path: '/people', authorizer: iam } }] } };
    addApiTwins(functions, { authorizer: 'cognito' });
    expect(addApiTwins(functions, { authorizer: 'cognito' })).toEqual([]);
    expect(routesOf(functions)).toHaveLength(2);
  });

  it('leaves routes behind another authorizer alone (a JWT route under /api written by hand stays as written)', () => {
    const functions: Functions = { f: { events: [{ httpApi: { method: 'GET', path: '/api/health', authorizer: { name: 'cognito' } } }] } };
    expect(addApiTwins(functions, { authorizer: 'cognito' })).toEqual([]);
    expect(routesOf(functions)).toHaveLength(1);
  });

  it('fails the package for a route without an authorizer: every route keeps one', () => {
    expect(() => addApiTwins({ open: { events: [{ httpApi: { method: 'GET', path: '/open' } }] } }, { authorizer: 'cognito' })).toThrow(/GET \/open of function open has no authorizer/);
    expect(() => addApiTwins({ open: { events: [{ httpApi: 'GET /open' }] } }, { authorizer: 'cognito' })).toThrow(/has no authorizer/);
  });

  it('fails the package for an IAM route under /api, which is the twins\' prefix', () => {
    expect(() => addApiTwins({ f: { events: [{ httpApi: { method: 'GET', path: '/api/people', authorizer: iam } }] } }, { authorizer: 'cognito' })).toThrow(/reserved/);
  });

  it('needs the authorizer\'s name', () => {
    expect(() => addApiTwins({}, {})).toThrow(/custom.apiTwins.authorizer/);
  });
});

describe('the ApiTwins plugin', () => {
  const serverless = (custom: unknown, authorizers: unknown, functions: Functions) => ({
    service: { custom, provider: { httpApi: { authorizers } }, functions },
  });

  it('adds the twins before the framework compiles the events', () => {
    const functions: Functions = { f: { events: [{ httpApi: { method: 'GET', path: '/people', authorizer: iam } }] } };
    const plugin = new ApiTwins(serverless({ apiTwins: { authorizer: 'cognito' } }, { cognito: { type: 'jwt' } }, functions), {}, { log: {} });
    expect(Object.keys(plugin.hooks)).toEqual(['before:package:compileEvents']);
    plugin.hooks['before:package:compileEvents']();
    expect(routesOf(functions).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /people', 'GET /api/people']);
  });

  it.each([
    ['no authorizer named', {}, { cognito: { type: 'jwt' } }, /custom.apiTwins.authorizer must name/],
    ['an authorizer that is not declared', { apiTwins: { authorizer: 'other' } }, { cognito: { type: 'jwt' } }, /must name one of provider.httpApi.authorizers \(cognito\)/],
    ['an authorizer that is not JWT', { apiTwins: { authorizer: 'lambda' } }, { lambda: { type: 'request' } }, /must be of type jwt/],
  ])('refuses %s', (_, custom, authorizers, message) => {
    const plugin = new ApiTwins(serverless(custom, authorizers, {}), {}, {});
    expect(() => plugin.hooks['before:package:compileEvents']()).toThrow(message);
  });
});
