import { createHash } from 'node:crypto';
import { rawRedis } from '../support/env';
import { raceLogin, refreshWith, sharedBackends, sharedDeployment, startInstances, stopInstances, type SharedBackends } from '../support/instances';
import type { ServiceProcess } from '../support/process';

// An instance dies by SIGKILL while clients rotate many families through it. Rotation is one
// Lua script, so Redis either ran all of it or none of it: no family may be left half-rotated.

const FAMILIES = 40;
const STORM_MS = 1500;
const KILL_AFTER_MS = 500;

const hashOf = (token: string) => createHash('sha256').update(token.split('.')[1]!).digest('base64url');
const familyOf = (token: string) => token.split('.')[0]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Session {
  token: string;
  /** Distinct successors this client received: the rotations it saw. */
  rotations: number;
  /** Requests that died with the killed instance (outcome unknown to the client). */
  lost: number;
}

if (!sharedBackends()) {
  it('needs real Redis and PostgreSQL, which only a run outside CI may lack', () => {
    expect(process.env.CI).not.toBe('true');
  });
} else {
  describe('SIGKILL of an instance in the middle of a rotation storm', () => {
    let shared: SharedBackends;
    let instances: ServiceProcess[];

    beforeAll(async () => {
      shared = await sharedDeployment();
      instances = await startInstances(2, shared.env);
    }, 60_000);
    afterAll(async () => {
      await stopInstances(instances ?? []);
      await shared?.drop();
    });

    it('leaves every family whole: current token known to its client, generation matching', async () => {
      const [victim, survivor] = instances as [ServiceProcess, ServiceProcess];
      const sessions: Session[] = [];
      for (let i = 0; i < FAMILIES; i += 1) sessions.push({ token: await raceLogin(survivor), rotations: 0, lost: 0 });

      let stop = false;
      let victimDead = false;
      // Each client refreshes in a loop, alternating instances while both live. A request that
      // dies with the victim is retried with the same token on the survivor: inside the grace
      // window that is the idempotent retry, so the client ends up with the successor either way.
      const client = async (session: Session, index: number) => {
        let turn = index;
        while (!stop) {
          const target = !victimDead && turn % 2 === 0 ? victim : survivor;
          turn += 1;
          let reply;
          try {
            reply = await refreshWith(target, session.token);
          } catch {
            session.lost += 1;
            reply = await refreshWith(survivor, session.token);
          }
          if (reply.status !== 200 || !reply.body.refresh_token) throw new Error(`refresh refused: ${JSON.stringify(reply)}`);
          if (reply.body.refresh_token !== session.token) session.rotations += 1;
          session.token = reply.body.refresh_token;
        }
      };
      const storm = Promise.all(sessions.map(client));
      await sleep(KILL_AFTER_MS);
      victimDead = true;
      victim.child.kill('SIGKILL');
      expect(await victim.exited()).toEqual({ code: null, signal: 'SIGKILL' });
      await sleep(STORM_MS - KILL_AFTER_MS);
      stop = true;
      await storm;

      // The kill really landed mid-storm: some requests were in flight on the victim.
      expect(sessions.reduce((sum, s) => sum + s.lost, 0)).toBeGreaterThan(0);
      const redis = rawRedis();
      try {
        for (const session of sessions) {
          const family = await redis.hgetall(`${shared.prefix}rf:{${familyOf(session.token)}}`);
          // Live, its current secret is the one the client holds, and it rotated exactly as
          // often as the client saw rotations: nothing half-done, no branch the client missed.
          expect({ state: family.state, current: family.cur, generation: Number(family.gen) }).toEqual({
            state: 'active',
            current: hashOf(session.token),
            generation: session.rotations,
          });
        }
      } finally {
        redis.disconnect();
      }
      // And each family goes on working.
      const next = await Promise.all(sessions.map((session) => refreshWith(survivor, session.token)));
      expect(next.every((reply) => reply.status === 200)).toBe(true);
    }, 60_000);
  });
}
