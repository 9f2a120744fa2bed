import { decodeJwt } from 'jose';
import request from 'supertest';
import { createApp } from '../../src/http/app';
import { createClient } from '../../src/identity/clients';
import { registerUser } from '../../src/identity/user-lifecycle';
import { keys, legacyKeys, userKeys } from '../../src/store/redis/keys';
import { userTag } from '../../src/store/user-tag';
import type { TestDeps } from '../support/deps';
import { basic, oauthFixture, RS_SECRET } from '../support/oauth-fixture';
import { usersOnDistinctNodes, wireProbe, type Trip, type WireProbe } from '../support/round-trips';
import { missingBackend, redisTopologies } from '../support/env';

// The introspection budget (oauth/introspection.ts, HOT PATH: one Redis round trip per token),
// counted on the wire (support/round-trips.ts). On the cluster, everything introspection reads
// about a token is under its subject's tag: one pipeline, to the one master that owns the slot.
// The users are picked so that each master owns one of them.

const BFF_SECRET = 'backend-for-frontend-secret-0123456789abcdef';
const PASSWORD = 'intro-password';
const USERS = 3;

if (redisTopologies().length === 0) {
  missingBackend('a real Redis');
} else {
  describe.each(redisTopologies())('RFC 7662 introspection on %s Redis: one round trip to one node', (topology) => {
    let deps: TestDeps;
    let probe: WireProbe;
    let users: { username: string; id: string }[];

    const post = (path: string, form: Record<string, string>, authorization?: string) => {
      const req = request(createApp({ ...deps, ...probe.stores }).callback()).post(path).type('form');
      if (authorization) req.set('Authorization', authorization);
      return req.send(form);
    };
    /** One introspection, as the wire saw it; `expected` is how many commands to wait for. */
    const introspect = (token: string, caller: string, expected: number): Promise<Trip> =>
      probe.measure(expected, async () => {
        const res = await post('/oauth/introspect', { token }, caller);
        expect(res.body.active).toBe(true);
      });

    beforeAll(async () => {
      ({ deps } = await oauthFixture({}, { store: 'memory' }));
      await createClient(deps.db, { id: 'bff', type: 'confidential', secret: BFF_SECRET, grantTypes: ['password', 'refresh_token'], scopes: ['items:read'], canIntrospect: true }, new Date(deps.clock.now()));
      probe = await wireProbe(topology);
      users = await usersOnDistinctNodes(probe, USERS, (i) => registerUser(deps, { username: `intro${i}`, password: PASSWORD, scopes: ['items:read'] }));
    });
    afterAll(async () => {
      await probe?.close();
      await deps?.cleanup();
    });

    it('reads an access token\'s revocation state (blacklist, epochs, family) in one pipeline to one node', async () => {
      const trips: Trip[] = [];
      const expected: Trip[] = [];
      for (const { username, id } of users) {
        const login = await post('/oauth/token', { grant_type: 'password', client_id: 'spa', username, password: PASSWORD });
        const token = login.body.access_token as string;
        const { jti, sid } = decodeJwt(token) as { jti: string; sid: string };
        const tagged = [`get ${userKeys(id).generation}`, `get ${userKeys(id).blacklist(jti)}`, `hmget ${userKeys(id).epoch} epoch exp`, `hmget ${userKeys(id).clientEpoch('spa')} epoch exp`, `hget ${keys.family(sid)} state`];
        // On the cluster every key read is under the subject's tag (its family's too): one slot.
        if (topology === 'cluster') for (const command of tagged) expect(command.split(' ')[1]!.startsWith(`{u:${userTag(id)}}:`)).toBe(true);
        // Standalone also reads the keys from before user tags, in the same pipeline.
        const legacy = topology === 'cluster' ? [] : [`get ${legacyKeys.blacklist(jti)}`, `hmget ${legacyKeys.userEpoch(id)} epoch exp`, `hmget ${legacyKeys.clientEpoch('spa')} epoch exp`];
        const commands = [...tagged, ...legacy].map((command) => command.replace(' ', ` ${probe.prefix}`));
        trips.push(await introspect(token, basic('rs', RS_SECRET), commands.length));
        expected.push({ nodes: [await probe.ownerOf(`{u:${userTag(id)}}`)], commands, writes: 1 });
      }
      expect(trips).toEqual(expected);
    });

    it('reads a refresh token\'s family in one command to one node', async () => {
      const trips: Trip[] = [];
      const expected: Trip[] = [];
      for (const { username, id } of users) {
        const login = await post('/oauth/token', { grant_type: 'password', client_id: 'bff', username, password: PASSWORD }, basic('bff', BFF_SECRET));
        const token = login.body.refresh_token as string;
        trips.push(await introspect(token, basic('bff', BFF_SECRET), 1));
        expected.push({ nodes: [await probe.ownerOf(`{u:${userTag(id)}}`)], commands: [`hgetall ${probe.prefix}${keys.family(token.split('.')[0]!)}`], writes: 1 });
      }
      expect(trips).toEqual(expected);
    });
  });
}
