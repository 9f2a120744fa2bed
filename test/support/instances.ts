import type { Cluster, Redis } from 'ioredis';
import { createClient } from '../../src/identity/clients';
import { Passwords } from '../../src/identity/passwords';
import { createUser } from '../../src/identity/users';
import { generateJwk } from '../../src/tokens/generate';
import { connectTestRedis, createTestDatabase, postgresUrl, redisTopologies, tempDir, testConfig, topologyTarget, uniqueName, type RedisTarget, type RedisTopology } from './env';
import { startServiceProcess, type ServiceProcess } from './process';

export const RACE_USER = { username: 'racer', password: 'racer-password' };
export const RACE_CLIENT = 'race-spa';

/** The Redis topologies several service processes can share (PostgreSQL included): the run's
 *  standalone server and its 3-master cluster; none only outside CI. */
export function sharedTopologies(): RedisTopology[] {
  return postgresUrl() ? redisTopologies() : [];
}

export interface SharedBackends {
  readonly env: Record<string, string>;
  /** A client on the same Redis with the instances' key prefix (a cluster client on the
   *  cluster), for looking at what they wrote: `keys.family(id)` is read as they wrote it. */
  connectRedis(): Promise<Redis | Cluster>;
  drop(): Promise<void>;
}

/** The service's own variables for the target (config.ts). */
function redisEnv(target: RedisTarget): Record<string, string> {
  if (target.mode === 'cluster') return { REDIS_MODE: 'cluster', REDIS_CLUSTER_NODES: target.nodes.map(({ host, port }) => `${host}:${port}`).join(',') };
  if (target.mode === 'standalone') return { REDIS_URL: target.url };
  throw new Error(`no shared ${target.mode} deployment`);
}

/**
 * One migrated PostgreSQL database with a user and a public client, a Redis key prefix on the
 * given topology and a signing key set: what several instances of one deployment share.
 */
export async function sharedDeployment(topology: RedisTopology): Promise<SharedBackends> {
  const target = topologyTarget(topology);
  const database = await createTestDatabase('postgres');
  const config = testConfig({ ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' });
  const now = new Date();
  await createUser(database.db, { username: RACE_USER.username, passwordHash: await new Passwords(config.argon2).hash(RACE_USER.password), scopes: ['items:read'] }, now);
  await createClient(database.db, { id: RACE_CLIENT, type: 'public', grantTypes: ['password', 'refresh_token'], scopes: ['items:read'], defaultScopes: ['items:read'] }, now);
  await database.db.destroy();
  const prefix = `${uniqueName('race')}:`;
  return {
    env: {
      DATABASE_URL: database.url!,
      ...redisEnv(target),
      REDIS_KEY_PREFIX: prefix,
      // Migrated above; instances racing to migrate is not what these tests are about.
      MIGRATE_ON_START: 'false',
      SIGNING_KEYS: JSON.stringify({ keys: [generateJwk('ES256', 'race-key', 'active')] }),
      LOG_LEVEL: 'info',
    },
    connectRedis: () => connectTestRedis(target, prefix),
    drop: () => database.drop(),
  };
}

/** Starts `count` instances of the service, each its own process, on the shared backends. */
export async function startInstances(count: number, env: Record<string, string>): Promise<ServiceProcess[]> {
  return Promise.all(Array.from({ length: count }, () => startServiceProcess({ ...env, DATA_DIR: tempDir() })));
}

export async function stopInstances(instances: readonly ServiceProcess[]): Promise<void> {
  await Promise.all(
    instances.map(async (instance) => {
      if (instance.child.exitCode === null && instance.child.signalCode === null) instance.child.kill('SIGTERM');
      await instance.exited();
    }),
  );
}

export interface TokenReply {
  readonly status: number;
  readonly body: { access_token?: string; refresh_token?: string; error?: string };
}

export async function postToken(instance: ServiceProcess, form: Record<string, string>): Promise<TokenReply> {
  const res = await fetch(`${instance.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  return { status: res.status, body: (await res.json()) as TokenReply['body'] };
}

export async function raceLogin(instance: ServiceProcess): Promise<string> {
  const reply = await postToken(instance, { grant_type: 'password', client_id: RACE_CLIENT, ...RACE_USER });
  if (reply.status !== 200 || !reply.body.refresh_token) throw new Error(`login failed: ${JSON.stringify(reply)}`);
  return reply.body.refresh_token;
}

export const refreshWith = (instance: ServiceProcess, refreshToken: string): Promise<TokenReply> =>
  postToken(instance, { grant_type: 'refresh_token', client_id: RACE_CLIENT, refresh_token: refreshToken });
