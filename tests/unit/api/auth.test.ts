import '../../support/quiet-logs';
import { createHash } from 'node:crypto';
import { apiHandler, json } from '../../../shared/middleware/http';
import { invoke } from '../../support/api-events';

/** What the JWT authorizer passes for a Cognito access token of the console's client. */
const consoleClaims = {
  sub: '5b7c1e2a-0f0e-4c1b-9a54-2f8d1a6c9e01',
  iss: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI',
  client_id: '1example23456789',
  token_use: 'access',
  scope: 'openid email',
  exp: '1767225600',
};

describe('requireCaller on AWS (no local token)', () => {
  const handler = apiHandler(async () => json(200, { ok: true }), {});

  it('accepts a caller the IAM authorizer passed (the original routes)', async () => {
    const response = await invoke(handler, { method: 'GET', path: '/sightings' });
    expect(response).toMatchObject({ statusCode: 200, body: { ok: true } });
  });

  it('accepts a caller the JWT authorizer passed, with the token\'s claims (the console\'s /api routes)', async () => {
    const response = await invoke(handler, { method: 'GET', path: '/api/sightings', jwt: consoleClaims });
    expect(response).toMatchObject({ statusCode: 200, body: { ok: true } });
  });

  it('refuses a request that no authorizer passed, with 401 naming both ways in', async () => {
    const response = await invoke(handler, { method: 'GET', path: '/api/sightings', iam: false });
    expect(response.statusCode).toBe(401);
    expect(response.body.error).toMatchObject({ code: 'Unauthorized', message: expect.stringMatching(/SigV4.*console/) });
  });

  it.each([
    ['empty claims', {}],
    ['claims without a subject', { iss: consoleClaims.iss, client_id: consoleClaims.client_id }],
    ['an empty subject', { ...consoleClaims, sub: '' }],
  ])('refuses a JWT context with %s', async (_, claims) => {
    const response = await invoke(handler, { method: 'GET', path: '/api/sightings', jwt: claims });
    expect(response.statusCode).toBe(401);
  });

  it('ignores a bearer header when no authorizer passed the request (API Gateway checks tokens, not the handler)', async () => {
    const response = await invoke(handler, { method: 'GET', path: '/api/sightings', iam: false, headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' } });
    expect(response.statusCode).toBe(401);
  });
});

describe('requireCaller locally (API_TOKEN_SHA256): the token, on both paths', () => {
  const token = 'local-secret-token';
  const handler = apiHandler(async () => json(200, { ok: true }), { API_TOKEN_SHA256: createHash('sha256').update(token).digest('hex') });

  it.each(['/sightings', '/api/sightings'])('accepts the bearer token on %s', async (path) => {
    const response = await invoke(handler, { method: 'GET', path, headers: { authorization: `Bearer ${token}` }, iam: false });
    expect(response).toMatchObject({ statusCode: 200, body: { ok: true } });
  });

  it('refuses a JWT context without the token (the local stack has no authorizer to trust)', async () => {
    const response = await invoke(handler, { method: 'GET', path: '/api/sightings', jwt: consoleClaims });
    expect(response.statusCode).toBe(401);
    expect(response.body.error.message).toContain('.facewatch/api-token');
  });
});
