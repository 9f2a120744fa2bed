import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
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
// about a token is under its subject's tag: one script, to the one master that owns the slot.
// The users are picked so that each master owns one of them.

const BFF_SECRET = 'backend-for-frontend-secret-0123456789abcdef';
const PASSWORD = 'intro-password';
const USERS = 3;
/** The hot path's read script, by the SHA-1 EVALSHA names it with. */
const STATE_SCRIPT = createHash('sha1').update(readFileSync(path.join(__dirname, '../../src/store/redis/revocation-state.lua'))).digest('hex');

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

    it('reads an access token\'s revocation state (blacklist, epochs, family) in one command to one node', async () => {
      const trips: Trip[] = [];
      const expected: Trip[] = [];
      for (const { username, id } of users) {
        const login = await post('/oauth/token', { grant_type: 'password', client_id: 'spa', username, password: PASSWORD });
        const token = login.body.access_token as string;
        const { jti, sid } = decodeJwt(token) as { jti: string; sid: string };
        const tagged = [userKeys(id).generation, userKeys(id).blacklist(jti), userKeys(id).epoch, userKeys(id).clientEpoch('spa'), keys.family(sid)];
        // On the cluster every key read is under the subject's tag (its family's too): one slot.
        if (topology === 'cluster') for (const key of tagged) expect(key.startsWith(`{u:${userTag(id)}}:`)).toBe(true);
        // Standalone also reads the keys from before user tags, in the same command.
        const legacy = topology === 'cluster' ? [] : [legacyKeys.blacklist(jti), legacyKeys.userEpoch(id), legacyKeys.clientEpoch('spa')];
        const read = [...tagged, ...legacy].map((key) => `${probe.prefix}${key}`);
        const commands = [`evalsha ${STATE_SCRIPT} ${read.length} ${read.join(' ')} 1`];
        // A script's first use on a connection sends its whole text (ioredis's EVAL, which loads
        // it); the hot path is every use after that.
        await post('/oauth/introspect', { token }, basic('rs', RS_SECRET));
        trips.push(await introspect(token, basic('rs', RS_SECRET), commands.length));
        expected.push({ nodes: [await probe.ownerOf(`{u:${userTag(id)}}`)], commands, writes: 1 });
      }
      expect(trips).toEqual(expected);
    });

    if (topology === 'standalone') {
      it('sends the reads of requests in flight together: one write for all of them (auto-pipelining)', async () => {
        const { username, id } = users[0]!;
        const tokens: string[] = [];
        for (let i = 0; i < 8; i++) {
          const login = await post('/oauth/token', { grant_type: 'password', client_id: 'spa', username, password: PASSWORD });
          tokens.push(login.body.access_token as string);
        }
        const now = Math.floor(deps.clock.now() / 1000);
        const claims = (token: string) => decodeJwt(token) as { jti: string; sid: string; exp: number };
        const check = (token: string) => probe.stores.revocations.revocationState(claims(token).jti, id, now, claims(token).sid, 'spa');
        // One of them revoked, so that a reply handed to the wrong caller shows.
        const revoked = 5;
        await probe.stores.revocations.blacklistAccessToken(claims(tokens[revoked]!).jti, id, claims(tokens[revoked]!).exp, now);
        await check(tokens[0]!);
        // Eight checks begun in one event-loop turn, as eight requests read at once would be.
        const trip = await probe.measure(tokens.length, async () => {
          const states = await Promise.all(tokens.map(check));
          expect(states.map((state) => state.blacklisted)).toEqual(tokens.map((_, i) => i === revoked));
          for (const state of states) expect(state).toMatchObject({ familyRevoked: false, userRevokedBefore: 0 });
        });
        expect(trip.commands).toHaveLength(tokens.length);
        expect(trip.commands.every((command) => command.startsWith(`evalsha ${STATE_SCRIPT} `))).toBe(true);
        expect(trip.writes).toBe(1);
      });
    }

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
