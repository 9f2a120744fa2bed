import request from 'supertest';
import { createApp } from '../../src/http/app';
import { registerUser } from '../../src/identity/user-lifecycle';
import { keys, legacyKeys } from '../../src/store/redis/keys';
import { userTag } from '../../src/store/user-tag';
import type { TestDeps } from '../support/deps';
import { oauthFixture } from '../support/oauth-fixture';
import { usersOnDistinctNodes, wireProbe, type Trip, type WireProbe } from '../support/round-trips';
import { missingBackend, redisTopologies } from '../support/env';

// The rotation budget, counted on the wire (support/round-trips.ts): one EVALSHA per rotation,
// on the one node that owns the family's slot (on the cluster, one user on each master). The
// commands a script runs inside Redis show up with source 'lua': not round trips, not counted.

const PASSWORD = 'rotate-password';
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const USERS = 3;
const ROTATIONS = 2;

if (redisTopologies().length === 0) {
  missingBackend('a real Redis');
} else {
  describe.each(redisTopologies())('refresh rotation on %s Redis', (topology) => {
    let deps: TestDeps;
    let probe: WireProbe;
    let users: { username: string; id: string }[];

    beforeAll(async () => {
      ({ deps } = await oauthFixture({}, { store: 'memory' }));
      probe = await wireProbe(topology);
      users = await usersOnDistinctNodes(probe, USERS, (i) => registerUser(deps, { username: `rotate${i}`, password: PASSWORD, scopes: ['items:read'] }));
    });
    afterAll(async () => {
      await probe?.close();
      await deps?.cleanup();
    });

    it('is one Redis command (one round trip) per rotation, to one node', async () => {
      const app = createApp({ ...deps, ...probe.stores });
      const post = (form: Record<string, string>) => request(app.callback()).post('/oauth/token').type('form').send(form);
      const refresh = (token: string) => post({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: token });
      const tokens: string[] = [];
      for (const { username } of users) {
        const login = await post({ grant_type: 'password', client_id: 'spa', username, password: PASSWORD });
        // The first use on a node loads the script (EVALSHA, NOSCRIPT, EVAL); count from the second.
        tokens.push((await refresh(login.body.refresh_token as string)).body.refresh_token as string);
      }

      const trips: Trip[] = [];
      const expected: Trip[] = [];
      for (let i = 0; i < ROTATIONS; i += 1) {
        for (const [u, { id }] of users.entries()) {
          const family = tokens[u]!.split('.')[0]!;
          trips.push(
            await probe.measure(1, async () => {
              const res = await refresh(tokens[u]!);
              expect(res.status).toBe(200);
              tokens[u] = res.body.refresh_token as string;
            }),
          );
          // EVALSHA <sha1> <n> <family> <used> [<previous release's state key>] <arguments...>: the
          // rotation script on this family; on one node also the key a reuse marks for instances
          // of the previous release (rolling upgrade), never on the cluster.
          const familyKeys = [keys.family(family), keys.familyUsed(family), ...(topology === 'standalone' ? [legacyKeys.family(family)] : [])];
          const keysOfFamily = familyKeys.map((key) => escapeRegExp(`${probe.prefix}${key}`)).join(' ');
          expected.push({ nodes: [await probe.ownerOf(`{u:${userTag(id)}}`)], commands: [expect.stringMatching(new RegExp(`^evalsha [0-9a-f]{40} ${familyKeys.length} ${keysOfFamily} `))], writes: 1 });
        }
      }
      expect(trips).toEqual(expected);
    });
  });
}
