import type Router from '@koa/router';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type Koa from 'koa';
import request from 'supertest';
import { createApp } from '../../src/http/app';
import type { AppState } from '../../src/http/context';
import { createClient } from '../../src/identity/clients';
import { DEMO_API_SECRET, seedDemoData } from '../../src/identity/demo-data';
import { registerUser } from '../../src/identity/user-lifecycle';
import { GRANTS } from '../../src/oauth/grants';
import { createTestDeps, type TestDeps } from '../support/deps';
import { testConfig } from '../support/env';

// The OpenAPI document (GET /openapi.json) is written from the routes' declarations; these tests
// hold it to the OpenAPI 3.1 schema, to the routes the app really registered, and to what the
// service answers for each example it documents.

const ISSUER = 'http://localhost:8080';
const METHODS = ['get', 'post', 'patch', 'delete', 'put'] as const;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly op: Json;
}

function operations(document: Json): Operation[] {
  return Object.entries(document.paths as Record<string, Json>).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method] !== undefined).map((method) => ({ method, path, op: item[method] as Json })),
  );
}

/** `GET /admin/users/:id` for every route layer of every router the app mounted (HEAD goes with GET). */
function registeredRoutes(app: Koa<AppState>): Set<string> {
  const routes = new Set<string>();
  for (const middleware of app.middleware) {
    const router = (middleware as { router?: Router<AppState> }).router;
    if (!router) continue;
    for (const layer of router.stack) {
      const methods = layer.methods.filter((method) => method !== 'HEAD');
      if (methods.length === 0) continue; // router.use() middleware
      const path = String(layer.path).replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      // router.all: every method alike, documented once (x-portcullis-any-method).
      if (methods.length > 5) routes.add(`ANY ${path}`);
      else for (const method of methods) routes.add(`${method} ${path}`);
    }
  }
  return routes;
}

describe('the OpenAPI document', () => {
  let deps: TestDeps;
  let app: Koa<AppState>;
  let document: Json;

  beforeAll(async () => {
    deps = await createTestDeps({ config: testConfig({ ISSUER, ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' }) });
    // The examples name the demo data, as a developer's `npm start` has it.
    const development = { ...deps, config: { ...deps.config, databaseUrl: undefined, production: false } };
    await seedDemoData(development);
    app = createApp(development);
    const res = await request(app.callback()).get('/openapi.json');
    expect(res.status).toBe(200);
    document = res.body as Json;
  });

  afterAll(async () => {
    await deps.cleanup();
  });

  it('is valid OpenAPI 3.1 and every $ref resolves', async () => {
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1]!);
    expect(refs.filter((id) => document.components.schemas[id] === undefined)).toEqual([]);
  });

  it('is served cacheable, with CORS like the discovery documents', async () => {
    const res = await request(app.callback()).get('/openapi.json');
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    const again = await request(app.callback()).get('/openapi.json').set('If-None-Match', res.headers.etag as string);
    expect(again.status).toBe(304);
  });

  it('serves the docs\' files cacheable, except the OAuth redirect page, which is loaded with the authorization response in its URL', async () => {
    const css = await request(app.callback()).get('/docs/swagger-ui.css');
    expect(css.status).toBe(200);
    expect(css.headers['cache-control']).toBe('public, max-age=3600');
    const redirect = await request(app.callback()).get('/docs/oauth2-redirect.html?code=a-code&state=s');
    expect(redirect.status).toBe(200);
    expect(redirect.headers['cache-control']).toBe('no-store');
  });

  it('documents every route the app registered, and no other', () => {
    const documented = new Set(operations(document).map(({ method, path, op }) => (op['x-portcullis-any-method'] ? `ANY ${path}` : `${method.toUpperCase()} ${path}`)));
    const registered = registeredRoutes(app);
    expect([...registered].filter((route) => !documented.has(route)).sort()).toEqual([]);
    expect([...documented].filter((route) => !registered.has(route)).sort()).toEqual([]);
    expect(registered.size).toBeGreaterThan(35);
  });

  it('gives each operation a unique id, a summary, tags, a security requirement and responses', () => {
    const ids = operations(document).map(({ op }) => op.operationId as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { method, path, op } of operations(document)) {
      expect({ route: `${method} ${path}`, summary: typeof op.summary, tags: op.tags.length > 0, security: Array.isArray(op.security) }).toEqual({ route: `${method} ${path}`, summary: 'string', tags: true, security: true });
      expect(Object.keys(op.responses).length).toBeGreaterThan(0);
    }
  });

  it('documents the token request of every grant of the grant table, as a form body (RFC 6749 §3.2)', () => {
    const content = document.paths['/oauth/token'].post.requestBody.content;
    expect(Object.keys(content)).toEqual(['application/x-www-form-urlencoded']);
    const variants = (content['application/x-www-form-urlencoded'].schema.oneOf as Json[]).map((ref) => document.components.schemas[(ref.$ref as string).split('/').pop()!]);
    expect(variants.map((schema) => schema.properties.grant_type.const).sort()).toEqual([...GRANTS.keys()].sort());
    expect(document.paths['/oauth/token'].post.responses['400'].content['application/json'].schema.$ref).toBe('#/components/schemas/OAuthError');
  });

  it('offers the authorization code and client credentials flows of this issuer, and each route\'s scopes', () => {
    const { flows } = document.components.securitySchemes.oauth2;
    expect(flows.authorizationCode.authorizationUrl).toBe(`${ISSUER}/oauth/authorize`);
    expect(flows.authorizationCode.tokenUrl).toBe(`${ISSUER}/oauth/token`);
    expect(flows.clientCredentials.tokenUrl).toBe(`${ISSUER}/oauth/token`);
    expect(document.paths['/admin/users/{id}'].delete.security).toEqual([{ oauth2: ['users:delete'] }, { bearer: ['users:delete'] }]);
    expect(document.paths['/healthz'].get.security).toEqual([]);
    // `admin` (every scope) is never offered: no route asks for it alone.
    expect(Object.keys(flows.authorizationCode.scopes)).not.toContain('admin');
    expect(Object.keys(flows.clientCredentials.scopes)).not.toContain('admin');
  });

  it('shows the demo data\'s credentials in examples only while the demo data is loaded (never in production)', async () => {
    const text = JSON.stringify(document);
    expect(text).toContain('secret123');
    for (const config of [{ ...deps.config, production: true, databaseUrl: 'postgres://db.example/portcullis' }, { ...deps.config, production: false, databaseUrl: 'postgres://db.example/portcullis' }]) {
      const res = await request(createApp({ ...deps, config }).callback()).get('/openapi.json');
      expect(res.status).toBe(200);
      expect(res.text).not.toContain('secret123');
      expect(res.text).not.toContain(DEMO_API_SECRET);
      // The other examples stay.
      expect(res.body['paths']['/oauth/token'].post['x-portcullis-examples'].map((example: { summary: string }) => example.summary)).toContain('refresh_token grant');
    }
  });

  describe('each documented example, sent to the service', () => {
    const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
    let tokens: { user: string; admin: string };

    beforeAll(async () => {
      ajv.addSchema({ $id: 'openapi.json', ...document });
      await createClient(deps.db, { id: 'console', type: 'public', grantTypes: ['password'], scopes: ['admin'] }, new Date(deps.clock.now()));
      await registerUser(deps, { username: 'root', password: 'root-password', scopes: ['admin'] });
      const login = async (body: Record<string, string>) => {
        const res = await request(app.callback()).post('/oauth/token').type('form').send({ grant_type: 'password', ...body });
        if (res.status !== 200) throw new Error(`login failed: ${res.text}`);
        return res.body.access_token as string;
      };
      tokens = {
        user: await login({ client_id: 'demo-spa', username: 'alice', password: 'secret123' }),
        admin: await login({ client_id: 'console', username: 'root', password: 'root-password', scope: 'admin' }),
      };
    });

    function examplesOf({ op }: Operation): Array<{ name: string; params: Json; query: Json; body?: unknown; mediaType?: string }> {
      const names = ((op['x-portcullis-examples'] ?? []) as Array<{ name: string }>).map(({ name }) => name);
      return names.map((name) => {
        const params: Json = {};
        const query: Json = {};
        for (const parameter of (op.parameters ?? []) as Json[]) {
          const value = parameter.examples?.[name]?.value;
          if (value !== undefined) (parameter.in === 'path' ? params : query)[parameter.name] = value;
        }
        const [mediaType, content] = Object.entries((op.requestBody?.content ?? {}) as Record<string, Json>)[0] ?? [];
        const body = content?.examples?.[name]?.value;
        return { name, params, query, ...(body !== undefined ? { body, mediaType } : {}) };
      });
    }

    it('documents at least one example for most operations', () => {
      const withExamples = operations(document).filter((operation) => examplesOf(operation).length > 0);
      expect(withExamples.length).toBeGreaterThan(30);
    });

    it('answers each with a documented status and a body that fits the documented schema', async () => {
      const failures: string[] = [];
      let sent = 0;
      for (const operation of operations(document)) {
        for (const example of examplesOf(operation)) {
          const path = operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(String(example.params[name])));
          let pending = request(app.callback())[operation.method as 'get'](path).query(example.query);
          const security = operation.op.security as Json[];
          if (security.some((requirement) => 'bearer' in requirement) && operation.path !== '/oauth/verify') {
            pending = pending.set('Authorization', `Bearer ${operation.path.startsWith('/users/me') ? tokens.user : tokens.admin}`);
          }
          if (example.body !== undefined) pending = pending.type(example.mediaType === 'application/json' ? 'json' : 'form').send(example.body as object);
          const res = await pending;
          sent += 1;
          const where = `${operation.method.toUpperCase()} ${path} (${example.name})`;
          const response = operation.op.responses[String(res.status)] as Json | undefined;
          if (!response) {
            failures.push(`${where}: status ${res.status} is not documented: ${res.text.slice(0, 200)}`);
            continue;
          }
          const json = response.content?.['application/json'];
          if (json) {
            const pointer = `openapi.json#/paths/${operation.path.replace(/~/g, '~0').replace(/\//g, '~1')}/${operation.method}/responses/${res.status}/content/application~1json/schema`;
            const validate = ajv.getSchema(pointer)!;
            if (!validate(res.body)) failures.push(`${where}: ${res.status} body does not fit: ${ajv.errorsText(validate.errors)} ${res.text.slice(0, 200)}`);
          } else if (response.content) {
            const [type] = Object.keys(response.content);
            if (type !== 'application/octet-stream' && !String(res.headers['content-type']).startsWith(type!)) failures.push(`${where}: content-type ${res.headers['content-type']}, documented ${type}`);
          }
        }
      }
      expect(failures).toEqual([]);
      expect(sent).toBeGreaterThan(30);
    });
  });
});
