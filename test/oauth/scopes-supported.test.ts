import request from 'supertest';
import { createApp } from '../../src/http/app';
import { createTestDeps, type TestDeps } from '../support/deps';

// The discovery document is public: its scopes_supported must not be a database query per request.

describe('GET /.well-known/oauth-authorization-server and the database', () => {
  let deps: TestDeps;
  beforeAll(async () => {
    deps = await createTestDeps();
  });
  afterAll(async () => deps.cleanup());

  it('reads scopes_supported at most once per CLIENT_CACHE_TTL however often it is asked', async () => {
    const app = createApp(deps);
    const queries: string[] = [];
    const onQuery = (query: { sql: string }) => queries.push(query.sql);
    deps.db.on('query', onQuery);
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => request(app.callback()).get('/.well-known/oauth-authorization-server')));
      for (const answer of answers) expect(answer.status).toBe(200);
      expect(new Set(answers.map((answer) => JSON.stringify(answer.body.scopes_supported))).size).toBe(1);
      expect(queries.filter((sql) => sql.includes('role_scopes'))).toHaveLength(1);
    } finally {
      deps.db.off('query', onQuery);
    }
  });
});
