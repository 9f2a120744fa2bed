import request from 'supertest';
import { decodeJwt } from 'jose';
import { addClientSecret } from '../../src/identity/client-secret-store';
import { createClient } from '../../src/identity/clients';
import { grantConsent } from '../../src/identity/consents';
import { isUserId } from '../../src/identity/ids';
import { hasAllScopes, hasScope } from '../../src/identity/scopes';
import { createUser } from '../../src/identity/users';
import { createHotPaths } from '../../src/http/hot-paths';
import { accountRoutes } from '../../src/http/routes/account';
import { adminClientRoutes } from '../../src/http/routes/admin-clients';
import { adminUserRoutes } from '../../src/http/routes/admin-users';
import { apiFixture, type ApiFixture } from '../support/api-fixture';
import { basic, ISSUER } from '../support/oauth-fixture';

// Issue 11's authorization matrix: every admin and account endpoint × a set of actors × targets
// weaker than, equal to and stronger than the actor, from ONE table. The expected answer comes
// from the table's rule for the row; the test fails when the routers serve an endpoint that has
// no row here, so a new endpoint cannot ship without deciding who may call it.

type TargetKind = 'weaker' | 'equal' | 'stronger' | 'privileged';
type Subject = 'user' | 'client' | 'foreign';

interface Actor {
  readonly name: string;
  readonly scopes: readonly string[];
  /** A user's token, a client's own token, or a user's token for another service (aud). */
  readonly subject: Subject;
}

const ACTORS: readonly Actor[] = [
  { name: 'none', scopes: [], subject: 'user' },
  { name: 'own', scopes: ['users:read:own', 'users:write:own'], subject: 'user' },
  { name: 'read', scopes: ['users:read', 'clients:read'], subject: 'user' },
  { name: 'write', scopes: ['users:read', 'users:write', 'clients:read', 'clients:write'], subject: 'user' },
  { name: 'delete', scopes: ['users:read', 'users:delete'], subject: 'user' },
  { name: 'clients-all', scopes: ['clients:*'], subject: 'user' },
  { name: 'admin', scopes: ['admin'], subject: 'user' },
  { name: 'service', scopes: ['users:read', 'users:write', 'clients:read', 'clients:write'], subject: 'client' },
  { name: 'foreign', scopes: ['admin'], subject: 'foreign' },
];

/** What a target holds: a user's effective scopes, or a client's allowed scopes and privileges. */
interface Target {
  readonly scopes: readonly string[];
  readonly privileged: boolean;
}

function targetOf(kind: TargetKind, actor: Actor): Target {
  switch (kind) {
    case 'weaker':
      return { scopes: [], privileged: false };
    case 'equal':
      return { scopes: actor.scopes, privileged: false };
    case 'stronger':
      return { scopes: ['admin'], privileged: false };
    case 'privileged':
      return { scopes: [], privileged: true };
  }
}

type Entity = 'user' | 'client';

interface Row {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  readonly path: string;
  /** account: any user's token for this API; otherwise one of these scopes is needed. */
  readonly anyOf: readonly string[] | 'account';
  /** What the path's :id names, and whether the actor must hold all the target holds. */
  readonly entity?: Entity;
  readonly targetRule?: boolean;
  /** POST that creates an entity holding the target's scopes (the same "within" rule). */
  readonly creates?: boolean;
  body?(target: Target, unique: string): object;
}

const ROWS: readonly Row[] = [
  { method: 'GET', path: '/admin/users', anyOf: ['users:read'] },
  { method: 'POST', path: '/admin/users', anyOf: ['users:write'], entity: 'user', creates: true, body: (t, u) => ({ username: u, password: 'target-password', scopes: t.scopes }) },
  { method: 'GET', path: '/admin/users/:id', anyOf: ['users:read'], entity: 'user' },
  { method: 'PATCH', path: '/admin/users/:id', anyOf: ['users:write'], entity: 'user', targetRule: true, body: () => ({ fullName: 'Changed By Matrix' }) },
  { method: 'POST', path: '/admin/users/:id/disable', anyOf: ['users:write'], entity: 'user', targetRule: true },
  { method: 'POST', path: '/admin/users/:id/enable', anyOf: ['users:write'], entity: 'user', targetRule: true },
  { method: 'POST', path: '/admin/users/:id/password', anyOf: ['users:write'], entity: 'user', targetRule: true, body: () => ({ password: 'matrix-new-password' }) },
  { method: 'DELETE', path: '/admin/users/:id', anyOf: ['users:delete'], entity: 'user', targetRule: true },
  { method: 'GET', path: '/admin/users/:id/sessions', anyOf: ['users:read'], entity: 'user' },
  { method: 'DELETE', path: '/admin/users/:id/sessions/:sessionId', anyOf: ['users:write'], entity: 'user', targetRule: true },
  { method: 'DELETE', path: '/admin/users/:id/sessions', anyOf: ['users:write'], entity: 'user', targetRule: true },
  { method: 'GET', path: '/admin/clients', anyOf: ['clients:read'] },
  { method: 'POST', path: '/admin/clients', anyOf: ['clients:write'], entity: 'client', creates: true, body: (t, u) => ({ id: u, type: 'confidential', grantTypes: ['client_credentials'], scopes: t.scopes, canIntrospect: t.privileged }) },
  { method: 'GET', path: '/admin/clients/:id', anyOf: ['clients:read'], entity: 'client' },
  { method: 'PATCH', path: '/admin/clients/:id', anyOf: ['clients:write'], entity: 'client', targetRule: true, body: () => ({ name: 'Changed By Matrix' }) },
  { method: 'POST', path: '/admin/clients/:id/secret', anyOf: ['clients:write'], entity: 'client', targetRule: true },
  { method: 'POST', path: '/admin/clients/:id/secrets', anyOf: ['clients:write'], entity: 'client', targetRule: true, body: () => ({ keepOldFor: '1d' }) },
  { method: 'DELETE', path: '/admin/clients/:id/secrets/:secretId', anyOf: ['clients:write'], entity: 'client', targetRule: true },
  { method: 'DELETE', path: '/admin/clients/:id', anyOf: ['clients:write'], entity: 'client', targetRule: true },
  { method: 'GET', path: '/users/me', anyOf: 'account' },
  { method: 'PATCH', path: '/users/me', anyOf: 'account', body: () => ({ fullName: 'Changed By Matrix' }) },
  { method: 'POST', path: '/users/me/password', anyOf: 'account', body: () => ({ currentPassword: 'target-password', newPassword: 'matrix-new-password' }) },
  { method: 'GET', path: '/users/me/sessions', anyOf: 'account' },
  { method: 'DELETE', path: '/users/me/sessions/:id', anyOf: 'account' },
  { method: 'DELETE', path: '/users/me/sessions', anyOf: 'account' },
  { method: 'GET', path: '/users/me/consents', anyOf: 'account' },
  { method: 'DELETE', path: '/users/me/consents/:clientId', anyOf: 'account' },
];

/** The rule each row states, as a reader of README's security model would apply it. */
function expectedAllowed(row: Row, actor: Actor, target: Target): boolean {
  if (actor.subject === 'foreign') return false; // aud is not this API
  if (row.anyOf === 'account') return actor.subject === 'user';
  if (!row.anyOf.some((scope) => hasScope(actor.scopes, scope))) return false;
  if (!row.targetRule && !row.creates) return true;
  const within = hasAllScopes(actor.scopes, target.scopes);
  return within && (!target.privileged || hasScope(actor.scopes, 'clients:admin'));
}

function targetsFor(row: Row): TargetKind[] {
  if (!row.targetRule && !row.creates) return ['weaker'];
  return row.entity === 'client' ? ['weaker', 'equal', 'stronger', 'privileged'] : ['weaker', 'equal', 'stronger'];
}

describe('authorization matrix: every admin and account endpoint × actor × target', () => {
  let f: ApiFixture;
  let hash: string;
  let counter = 0;
  const api = () => request(f.app.callback());
  const unique = (prefix: string) => `${prefix}${(counter += 1)}`;

  beforeAll(async () => {
    f = await apiFixture();
    hash = await f.deps.passwords.hash('target-password');
    const now = new Date(f.deps.clock.now());
    await createClient(f.deps.db, { id: 'mx-foreign', type: 'public', grantTypes: ['password'], scopes: ['admin'], audiences: ['https://items.example.test'] }, now);
  });
  afterAll(async () => f.deps.cleanup());

  const newUser = async (scopes: readonly string[]) => {
    const user = await createUser(f.deps.db, { username: unique('mxu'), passwordHash: hash, scopes }, new Date(f.deps.clock.now()));
    return user;
  };

  /** A fresh token for the actor (fresh, so one row's log-out cannot touch the next row). */
  async function tokenOf(actor: Actor): Promise<string> {
    if (actor.subject === 'client') {
      const id = unique('mx-svc');
      const secret = 'matrix-service-secret-with-32-characters!';
      await createClient(f.deps.db, { id, type: 'confidential', secret, grantTypes: ['client_credentials'], scopes: [...actor.scopes], audiences: [ISSUER] }, new Date(f.deps.clock.now()));
      const res = await api().post('/oauth/token').type('form').set('Authorization', basic(id, secret)).send({ grant_type: 'client_credentials', resource: ISSUER, scope: actor.scopes.join(' ') });
      return res.body.access_token as string;
    }
    const user = await newUser(actor.scopes);
    const client = actor.subject === 'foreign' ? { client_id: 'mx-foreign', resource: 'https://items.example.test' } : { client_id: 'console', resource: ISSUER };
    const res = await api().post('/oauth/token').type('form').send({ grant_type: 'password', username: user.username, password: 'target-password', ...client, ...(actor.scopes.length ? { scope: actor.scopes.join(' ') } : {}) });
    if (res.status !== 200) throw new Error(`actor ${actor.name}: ${JSON.stringify(res.body)}`);
    return res.body.access_token as string;
  }

  /** The target entity, made fresh for each case; returns the path's ids and a snapshot reader. */
  async function prepare(row: Row, target: Target, token: string): Promise<{ path: string; snapshot(): Promise<string> }> {
    if (row.anyOf === 'account') {
      const { sid, sub } = decodeJwt(token) as { sid?: string; sub: string };
      // A consent of the caller's to withdraw, when the caller is a user.
      if (row.path.includes(':clientId') && isUserId(sub)) await grantConsent(f.deps.db, sub, 'console', ['items:read'], new Date(f.deps.clock.now()));
      return { path: row.path.replace(':id', sid ?? 'no-session').replace(':clientId', 'console'), snapshot: async () => '' };
    }
    if (row.creates || row.entity === undefined) return { path: row.path, snapshot: async () => '' };
    if (row.entity === 'user') {
      const user = await newUser(target.scopes);
      let path = row.path.replace(':id', user.id);
      if (path.includes(':sessionId')) {
        const login = await api().post('/oauth/token').type('form').send({ grant_type: 'password', client_id: 'console', username: user.username, password: 'target-password' });
        path = path.replace(':sessionId', decodeJwt(login.body.access_token as string).sid as string);
      }
      const snapshot = async () => JSON.stringify([await f.deps.db('users').where({ id: user.id }).select('*'), await f.deps.families.listFamilies(user.id, f.deps.clock.now())]);
      return { path, snapshot };
    }
    const id = unique('mx-target');
    const { secretId } = await createClient(f.deps.db, { id, type: 'confidential', grantTypes: ['client_credentials'], scopes: [...target.scopes], canIntrospect: target.privileged }, new Date(f.deps.clock.now()));
    // A second secret, so that the first may be removed (never the last one that works).
    if (row.path.includes(':secretId')) await addClientSecret(f.deps.db, id, {}, new Date(f.deps.clock.now()));
    const path = row.path.replace(':id', id).replace(':secretId', secretId!);
    return { path, snapshot: async () => JSON.stringify([await f.deps.db('clients').where({ id }).select('*'), await f.deps.db('client_secrets').where({ client_id: id }).orderBy('id').select('*')]) };
  }

  it('has a row for every endpoint the account and admin routers serve, and no row for one they do not', () => {
    const hot = createHotPaths(f.deps);
    const served = [accountRoutes(f.deps, hot), adminUserRoutes(f.deps, hot), adminClientRoutes(f.deps, hot)]
      .flatMap((router) => router.stack)
      .flatMap((layer) => layer.methods.filter((method) => method !== 'HEAD').map((method) => `${method} ${String(layer.path).replace(/\/$/, '') || '/'}`));
    const rows = ROWS.map((row) => `${row.method} ${row.path}`);
    expect([...new Set(served)].sort()).toEqual([...rows].sort());
  });

  const cases = ROWS.flatMap((row) => ACTORS.flatMap((actor) => targetsFor(row).map((kind) => ({ row, actor, kind }))));

  it.each(cases.map((c) => [`${c.row.method} ${c.row.path}`, c.actor.name, c.kind, c] as const))('%s as %s on a %s target', async (_endpoint, _actor, _kind, { row, actor, kind }) => {
    const target = targetOf(kind, actor);
    const token = await tokenOf(actor);
    const { path, snapshot } = await prepare(row, target, token);
    const before = await snapshot();
    const call = api()[row.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete'](path).set('Authorization', `Bearer ${token}`);
    const res = row.body ? await call.send(row.body(target, unique('mxnew'))) : await call;
    if (expectedAllowed(row, actor, target)) {
      expect({ status: res.status, body: res.body }).toEqual({ status: expect.any(Number), body: expect.anything() });
      expect(res.status).toBeLessThan(300);
    } else {
      expect([401, 403, 404]).toContain(res.status);
      if (actor.subject === 'foreign' || (row.anyOf === 'account' && actor.subject === 'client')) expect(res.status).toBe(401);
      // A refusal changed nothing.
      expect(await snapshot()).toBe(before);
    }
  });
});
