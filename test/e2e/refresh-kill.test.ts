import { createHash } from 'node:crypto';
import { raceLogin, refreshWith, sharedDeployment, sharedTopologies, startInstances, stopInstances, type SharedBackends, type TokenReply } from '../support/instances';
import { until, type ServiceProcess } from '../support/process';
import { keys } from '../../src/store/redis/keys';
import { missingBackend } from '../support/env';

// An instance dies by SIGKILL while clients rotate many families through it. Rotation is one
// Lua script, so Redis either ran all of it or none of it: no family may be left half-rotated.
// Run on standalone Redis and on a 3-master cluster (there, the families of the one test user
// share its tag, so one master holds them all and runs every rotation).
//
// The victim is frozen (SIGSTOP) before it is killed, and killed only once every client has a
// request waiting on it. Requests it was serving when it froze may already have run their
// script in Redis without the reply reaching the client; the rest never got that far. Either
// way the client retries on the survivor with the same token. Killing at a fixed moment
// instead depended on the machine's speed: on a loaded one no request was in flight.

const FAMILIES = 40;
const FREEZE_AFTER_MS = 500;

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

if (sharedTopologies().length === 0) {
  missingBackend('real Redis and PostgreSQL');
} else {
  describe.each(sharedTopologies())('SIGKILL of an instance in the middle of a rotation storm on %s Redis', (topology) => {
    let shared: SharedBackends;
    let instances: ServiceProcess[];

    beforeAll(async () => {
      shared = await sharedDeployment(topology);
      // The retries reach the survivor after the freeze and the kill: keep them well inside the
      // idempotent-retry window even on a slow machine.
      instances = await startInstances(2, { ...shared.env, REFRESH_REUSE_GRACE: '30s' });
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
      let waitingOnVictim = 0;
      // Each client refreshes in a loop, alternating instances while both live. A request that
      // dies with the victim is retried with the same token on the survivor: inside the grace
      // window that is the idempotent retry, so the client ends up with the successor either way.
      const client = async (session: Session, index: number) => {
        let turn = index;
        while (!stop) {
          const onVictim = !victimDead && turn % 2 === 0;
          turn += 1;
          let reply: TokenReply | undefined;
          if (onVictim) {
            waitingOnVictim += 1;
            reply = await refreshWith(victim, session.token).catch(() => undefined);
            waitingOnVictim -= 1;
          } else {
            reply = await refreshWith(survivor, session.token);
          }
          if (!reply) {
            session.lost += 1;
            reply = await refreshWith(survivor, session.token);
          }
          if (reply.status !== 200 || !reply.body.refresh_token) throw new Error(`refresh refused: ${JSON.stringify(reply)}`);
          if (reply.body.refresh_token !== session.token) session.rotations += 1;
          session.token = reply.body.refresh_token;
        }
      };
      const storm = Promise.all(sessions.map(client));
      await sleep(FREEZE_AFTER_MS);
      victim.child.kill('SIGSTOP');
      // Frozen, the victim answers nothing more: each client's next turn on it hangs.
      await until(() => waitingOnVictim === FAMILIES, 20_000);
      victimDead = true;
      victim.child.kill('SIGKILL');
      expect(await victim.exited()).toEqual({ code: null, signal: 'SIGKILL' });
      // The storm goes on through the survivor: every family rotates at least twice more.
      const atKill = sessions.map((s) => s.rotations);
      await until(() => sessions.every((s, i) => s.rotations >= atKill[i]! + 2), 20_000);
      stop = true;
      await storm;

      // Every client lost exactly the one request it had on the victim.
      expect(sessions.map((s) => s.lost)).toEqual(sessions.map(() => 1));
      const redis = await shared.connectRedis();
      try {
        for (const session of sessions) {
          // The client has the instances' key prefix: the key is spelled as they spell it.
          const family = await redis.hgetall(keys.family(familyOf(session.token)));
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
