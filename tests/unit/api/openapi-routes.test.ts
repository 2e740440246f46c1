import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

const ROOT = path.resolve(__dirname, '../../..');

/** serverless.yml uses CloudFormation short tags: keep them as opaque values (only events are read here). */
const cfnTags = ['Ref', 'GetAtt', 'Sub', 'Join', 'If', 'Equals', 'Not', 'Select', 'Split', 'ImportValue', 'FindInMap', 'Base64'].flatMap((name) =>
  (['scalar', 'seq', 'map'] as const).map((collection) => ({
    tag: `!${name}`,
    collection: collection === 'scalar' ? undefined : collection,
    resolve: () => `!${name}`,
  })),
);

function serverlessRoutes(): string[] {
  const service = YAML.parse(fs.readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8'), { customTags: cfnTags as never, merge: true });
  const routes: string[] = [];
  for (const fn of Object.values<{ events?: Record<string, unknown>[] }>(service.functions ?? {})) {
    for (const event of fn.events ?? []) {
      const http = event.httpApi as string | { method: string; path: string } | undefined;
      if (!http) continue;
      routes.push(typeof http === 'string' ? http.replace(/\s+/, ' ') : `${http.method.toUpperCase()} ${http.path}`);
    }
  }
  return routes.sort();
}

function openApiRoutes(): string[] {
  const document = YAML.parse(fs.readFileSync(path.join(ROOT, 'openapi.yaml'), 'utf8'));
  const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
  return Object.entries<Record<string, unknown>>(document.paths)
    .flatMap(([route, item]) => Object.keys(item).filter((k) => methods.includes(k)).map((m) => `${m.toUpperCase()} ${route}`))
    .sort();
}

describe('openapi.yaml', () => {
  it('documents exactly the routes serverless.yml deploys', () => {
    const deployed = serverlessRoutes();
    const documented = openApiRoutes();
    expect(deployed.length).toBeGreaterThan(0);
    expect(documented).toEqual(deployed);
  });

  it('resolves every $ref', () => {
    const text = fs.readFileSync(path.join(ROOT, 'openapi.yaml'), 'utf8');
    const document = YAML.parse(text);
    const refs = [...text.matchAll(/\$ref: '#\/([^']+)'/g)].map((m) => m[1]);
    for (const ref of refs) {
      const target = ref.split('/').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document);
      expect({ ref, found: target !== undefined }).toEqual({ ref, found: true });
    }
  });

  it('requires authentication on every operation', () => {
    const document = YAML.parse(fs.readFileSync(path.join(ROOT, 'openapi.yaml'), 'utf8'));
    // SigV4 on the routes as listed, the console's Cognito tokens on their /api twins, the local token on both
    expect(document.security).toEqual([{ sigv4: [] }, { cognito: [] }, { localToken: [] }]);
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual(['cognito', 'localToken', 'sigv4']);
    expect(document['x-authorizers']).toEqual({ '<path>': { aws: ['sigv4'], local: ['localToken'] }, '/api<path>': { aws: ['cognito'], local: ['localToken'] } });
    // the twins are not listed twice: no path of the document is under /api
    expect(Object.keys(document.paths).filter((p) => p === '/api' || p.startsWith('/api/'))).toEqual([]);
    for (const item of Object.values<Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (method === 'parameters') continue;
        expect(operation.security).toBeUndefined();
        expect(Object.keys(operation.responses)).toContain('401');
      }
    }
  });
});
