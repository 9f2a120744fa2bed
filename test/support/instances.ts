import { createClient } from '../../src/identity/clients';
import { Passwords } from '../../src/identity/passwords';
import { createUser } from '../../src/identity/users';
import { generateJwk } from '../../src/tokens/generate';
import { createTestDatabase, postgresUrl, redisUrl, tempDir, testConfig, uniqueName } from './env';
import { startServiceProcess, type ServiceProcess } from './process';

export const RACE_USER = { username: 'racer', password: 'racer-password' };
export const RACE_CLIENT = 'race-spa';

/** True when this run has the real servers that several service processes can share. */
export const sharedBackends = (): boolean => Boolean(redisUrl() && postgresUrl());

export interface SharedBackends {
  readonly env: Record<string, string>;
  /** The Redis key prefix every instance uses. */
  readonly prefix: string;
  drop(): Promise<void>;
}

/**
 * One migrated PostgreSQL database with a user and a public client, a Redis key prefix and a
 * signing key set: what several instances of one deployment share.
 */
export async function sharedDeployment(): Promise<SharedBackends> {
  const database = await createTestDatabase('postgres');
  const config = testConfig({ ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' });
  const now = new Date();
  await createUser(database.db, { username: RACE_USER.username, passwordHash: await new Passwords(config.argon2).hash(RACE_USER.password), scopes: ['items:read'] }, now);
  await createClient(database.db, { id: RACE_CLIENT, type: 'public', grantTypes: ['password', 'refresh_token'], scopes: ['items:read'], defaultScopes: ['items:read'] }, now);
  await database.db.destroy();
  const prefix = `${uniqueName('race')}:`;
  return {
    prefix,
    env: {
      DATABASE_URL: database.url!,
      REDIS_URL: redisUrl()!,
      REDIS_KEY_PREFIX: prefix,
      // Migrated above; instances racing to migrate is not what these tests are about.
      MIGRATE_ON_START: 'false',
      SIGNING_KEYS: JSON.stringify({ keys: [generateJwk('ES256', 'race-key', 'active')] }),
      LOG_LEVEL: 'info',
    },
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
