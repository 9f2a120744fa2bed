import request from 'supertest';
import { createItemsApp } from '../../examples/resource-service/app';
import { parseAllowedOrigins } from '../../examples/resource-service/cors';
import { createVerifier } from '../../src/verifier';

// The example items API's CORS (ALLOWED_ORIGINS), as a browser app on another origin meets it.
// No token is ever valid here (the JWKS address answers nothing): the refusal is what we look at.

const SPA = 'http://localhost:5173';
const items = (allowedOrigins?: ReadonlySet<string>) =>
  createItemsApp(createVerifier({ mode: 'jwks', issuer: 'http://localhost:8080', audience: 'http://localhost:8080', jwksUri: 'http://127.0.0.1:9/.well-known/jwks.json' }), allowedOrigins ? { allowedOrigins } : {}).callback();

describe('the example items API: CORS for ALLOWED_ORIGINS', () => {
  it('answers the preflight of a listed origin, allowing the Authorization header and never credentials', async () => {
    const res = await request(items(parseAllowedOrigins(SPA)))
      .options('/items')
      .set('Origin', SPA)
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'authorization');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(SPA);
    expect(res.headers['access-control-allow-headers']).toMatch(/authorization/i);
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('puts CORS headers on a refusal too, exposing WWW-Authenticate (RFC 6750 §3)', async () => {
    const res = await request(items(parseAllowedOrigins(SPA))).get('/items').set('Origin', SPA);
    expect(res.status).toBe(401);
    expect(res.headers['access-control-allow-origin']).toBe(SPA);
    expect(res.headers['access-control-expose-headers']).toMatch(/www-authenticate/i);
  });

  it('gives an unlisted origin, or any origin by default, no CORS headers', async () => {
    for (const app of [items(parseAllowedOrigins(SPA)), items()]) {
      const res = await request(app).get('/healthz').set('Origin', 'http://localhost:5174');
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('reads a comma-separated list of exact origins, and refuses anything else at start-up', () => {
    expect([...parseAllowedOrigins(' http://localhost:5173 , https://app.example.com,')]).toEqual([SPA, 'https://app.example.com']);
    expect(parseAllowedOrigins(undefined).size).toBe(0);
    for (const bad of ['*', 'http://localhost:5173/', 'localhost:5173', 'https://*.example.com', 'ftp://files.example.com', 'https://app.example.com/path', 'HTTP://LOCALHOST:5173']) {
      expect(() => parseAllowedOrigins(bad)).toThrow(/ALLOWED_ORIGINS/);
    }
  });
});
