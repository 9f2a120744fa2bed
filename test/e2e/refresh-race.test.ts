import { raceLogin, refreshWith, sharedDeployment, sharedTopologies, startInstances, stopInstances, type SharedBackends, type TokenReply } from '../support/instances';
import type { ServiceProcess } from '../support/process';
import { keys } from '../../src/store/redis/keys';
import { missingBackend } from '../support/env';

// Several instances of the service on one Redis (standalone, then a 3-master cluster) and one
// PostgreSQL, the way it is deployed, racing on one refresh token. Rotation is one Lua script on
// the node that owns the family's slot, so whichever instance gets there first rotates and every
// other presentation sees the rotated family.

const INSTANCES = 3;
const CONCURRENT = 50;
const ROUNDS = 20;

const familyOf = (token: string) => token.split('.')[0]!;

/** Fires CONCURRENT refreshes of one token at once, spread round-robin over the instances. */
function race(instances: readonly ServiceProcess[], token: string): Promise<TokenReply[]> {
  return Promise.all(Array.from({ length: CONCURRENT }, (_, i) => refreshWith(instances[i % instances.length]!, token)));
}

if (sharedTopologies().length === 0) {
  missingBackend('real Redis and PostgreSQL');
} else {
  describe.each(
    sharedTopologies().flatMap((topology) => [
      [topology, 'on', '5s'] as const,
      [topology, 'off', '0'] as const,
    ]),
  )(`${CONCURRENT} concurrent refreshes of one token across ${INSTANCES} instances on %s Redis, grace window %s`, (topology, grace, value) => {
    let shared: SharedBackends;
    let instances: ServiceProcess[];

    beforeAll(async () => {
      shared = await sharedDeployment(topology);
      instances = await startInstances(INSTANCES, { ...shared.env, REFRESH_REUSE_GRACE: value });
    }, 60_000);
    afterAll(async () => {
      await stopInstances(instances ?? []);
      await shared?.drop();
    });

    it(`holds for ${ROUNDS} rounds in a row`, async () => {
      const redis = await shared.connectRedis();
      try {
        for (let round = 0; round < ROUNDS; round += 1) {
          const token = await raceLogin(instances[round % INSTANCES]!);
          const replies = await race(instances, token);
          const successes = replies.filter((reply) => reply.status === 200);
          const failures = replies.filter((reply) => reply.status !== 200);
          // The client has the instances' key prefix: the key is spelled as they spell it.
          const state = await redis.hget(keys.family(familyOf(token)), 'state');
          const generation = await redis.hget(keys.family(familyOf(token)), 'gen');

          if (grace === 'on') {
            // Every presentation is the rotation or its idempotent retry: one successor for all.
            expect({ round, successes: successes.length }).toEqual({ round, successes: CONCURRENT });
            expect(new Set(successes.map((reply) => reply.body.refresh_token)).size).toBe(1);
            expect(new Set(successes.map((reply) => reply.body.access_token)).size).toBe(CONCURRENT);
            expect({ round, state, generation }).toEqual({ round, state: 'active', generation: '1' });
            const next = await refreshWith(instances[(round + 1) % INSTANCES]!, successes[0]!.body.refresh_token!);
            expect(next.status).toBe(200);
          } else {
            // Exactly one rotation; every other presentation is a stale token: theft, family gone.
            expect({ round, successes: successes.length }).toEqual({ round, successes: 1 });
            expect(failures.every((reply) => reply.status === 400 && reply.body.error === 'invalid_grant')).toBe(true);
            expect({ round, state }).toEqual({ round, state: 'revoked' });
            const next = await refreshWith(instances[round % INSTANCES]!, successes[0]!.body.refresh_token!);
            expect(next.body.error).toBe('invalid_grant');
          }
        }
      } finally {
        redis.disconnect();
      }
      if (grace === 'off') {
        // Each round was detected as theft and audited by whichever instances saw the reuse.
        const audits = instances.flatMap((instance) => instance.stdout().split('\n').filter((line) => line.includes('"event":"refresh.reuse_detected"')));
        expect(new Set(audits.map((line) => (JSON.parse(line) as { familyId: string }).familyId)).size).toBe(ROUNDS);
      }
    }, 120_000);
  });
}
