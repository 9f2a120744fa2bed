import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';
import { parseDuration } from '../../src/config/duration';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration from the environment', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      port: 8080,
      host: '127.0.0.1',
      issuer: 'http://localhost:8080',
      databaseUrl: undefined,
      redis: undefined,
      dataDir: path.resolve('./data'),
      logLevel: 'info',
      migrateOnStart: true,
      shutdownTimeoutSec: 10,
    });
  });

  it('derives the default issuer from PORT and drops a trailing slash from ISSUER', () => {
    expect(loadConfig({ PORT: '9000' }).issuer).toBe('http://localhost:9000');
    expect(loadConfig({ ISSUER: 'https://auth.example.com/' }).issuer).toBe('https://auth.example.com');
  });

  it('is frozen', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf({ PORT: 'eighty', LOG_LEVEL: 'loud', REDIS_URL: 'http://x', SHUTDOWN_TIMEOUT: '5 fortnights', MIGRATE_ON_START: 'maybe' });
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toEqual(expect.stringContaining('PORT'));
    for (const name of ['PORT', 'LOG_LEVEL', 'REDIS_URL', 'SHUTDOWN_TIMEOUT', 'MIGRATE_ON_START']) {
      expect(problems.some((problem) => problem.startsWith(`${name}:`))).toBe(true);
    }
  });

  it('lists the problems of combined settings beside those of single values, in the same pass', () => {
    // A bad value used to hide every rule that compares settings: one restart per problem.
    const problems = problemsOf({ NODE_ENV: 'production', PORT: 'eighty', DATABASE_URL: 'mysql://db/x', ISSUER: 'https://auth.example.com/?tenant=a', SIGNING_KEYS: '{}', SIGNING_KEYS_FILE: '/k.json' });
    expect(problems).toEqual([
      expect.stringMatching(/^PORT: /),
      expect.stringMatching(/^DATABASE_URL: must use postgres:/),
      'SIGNING_KEYS and SIGNING_KEYS_FILE: set one, not both',
      'ISSUER: must have no query, fragment or credentials (RFC 8414 §2)',
      'REDIS_URL: required when NODE_ENV=production',
    ]);
  });

  it.each(['https://auth.example.com/?tenant=a', 'https://auth.example.com/#top', 'https://user:pw@auth.example.com'])('refuses the ISSUER %s (RFC 8414 §2: no query or fragment)', (issuer) => {
    expect(problemsOf({ ISSUER: issuer })).toEqual(['ISSUER: must have no query, fragment or credentials (RFC 8414 §2)']);
  });

  it('rejects a port out of range and a database URL of the wrong kind', () => {
    expect(problemsOf({ PORT: '70000' })[0]).toMatch(/^PORT: must be an integer from 0 to 65535/);
    expect(problemsOf({ DATABASE_URL: 'mysql://db/x' })[0]).toMatch(/^DATABASE_URL: must use postgres:/);
    expect(problemsOf({ ISSUER: 'not a url' })[0]).toMatch(/^ISSUER: must be a URL/);
  });

  it('reads booleans strictly', () => {
    expect(loadConfig({ MIGRATE_ON_START: 'false' }).migrateOnStart).toBe(false);
    expect(loadConfig({ MIGRATE_ON_START: 'TRUE' }).migrateOnStart).toBe(true);
  });

  describe('TRUST_PROXY', () => {
    it('is off unless set: X-Forwarded-For is never believed by default', () => {
      expect(loadConfig({}).trustProxy).toEqual({ kind: 'off' });
      for (const value of ['', ' ', 'false', 'FALSE', '0', '00']) expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual({ kind: 'off' });
    });

    it('reads a positive integer as a hop count', () => {
      expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toEqual({ kind: 'hops', hops: 1 });
      expect(loadConfig({ TRUST_PROXY: ' 2 ' }).trustProxy).toEqual({ kind: 'hops', hops: 2 });
      expect(problemsOf({ TRUST_PROXY: '33' })).toEqual(['TRUST_PROXY: a hop count must be from 1 to 32 (got "33")']);
    });

    it('reads a comma-separated list of addresses, CIDR ranges and proxy-addr’s names', () => {
      const { trustProxy } = loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,loopback, fd00::/8, ::1, uniquelocal, linklocal, 172.16.0.0/255.240.0.0' });
      expect(trustProxy).toEqual({ kind: 'cidrs', list: ['10.0.0.0/8', '192.168.1.7', 'loopback', 'fd00::/8', '::1', 'uniquelocal', 'linklocal', '172.16.0.0/255.240.0.0'] });
      expect(Object.isFrozen(trustProxy)).toBe(true);
      expect(trustProxy.kind === 'cidrs' && Object.isFrozen(trustProxy.list)).toBe(true);
    });

    it('names every entry that is not an address or a range', () => {
      expect(problemsOf({ TRUST_PROXY: '10.0.0.0/33, proxy.internal, 10.0.0.1, 2001:db8::/129, 0.0.0.0/0' })).toEqual([
        'TRUST_PROXY: "10.0.0.0/33" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal',
        'TRUST_PROXY: "proxy.internal" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal',
        'TRUST_PROXY: "2001:db8::/129" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal',
        'TRUST_PROXY: "0.0.0.0/0" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal',
      ]);
      expect(problemsOf({ TRUST_PROXY: ' , ' })).toEqual(['TRUST_PROXY: names no proxy (got " , ")']);
    });

    it('refuses to trust every hop', () => {
      expect(problemsOf({ TRUST_PROXY: 'true' })[0]).toMatch(/^TRUST_PROXY: name a hop count or the proxies' addresses/);
    });
  });

  describe('Redis modes (issue 13)', () => {
    const sentinel = { REDIS_MODE: 'sentinel', REDIS_SENTINELS: 'sentinel-1:26379, 10.0.0.2:26380,[::1]:26381', REDIS_SENTINEL_NAME: 'portcullis' };

    it('is standalone by default, on REDIS_URL, with credentials and TLS only when set', () => {
      expect(loadConfig({ REDIS_URL: 'redis://cache:6379' }).redis).toEqual({ mode: 'standalone', url: 'redis://cache:6379', username: undefined, password: undefined, tls: false });
      expect(loadConfig({ REDIS_URL: 'redis://cache:6379', REDIS_USERNAME: 'svc', REDIS_PASSWORD: ' p w ', REDIS_TLS: 'true' }).redis).toMatchObject({ username: 'svc', password: ' p w ', tls: true });
    });

    it('reads the sentinels, the master name and both passwords in sentinel mode', () => {
      const { redis } = loadConfig({ ...sentinel, REDIS_PASSWORD: 'data', REDIS_SENTINEL_PASSWORD: 'watch', REDIS_TLS: 'yes' });
      expect(redis).toEqual({
        mode: 'sentinel',
        sentinels: [{ host: 'sentinel-1', port: 26379 }, { host: '10.0.0.2', port: 26380 }, { host: '::1', port: 26381 }],
        name: 'portcullis',
        username: undefined,
        password: 'data',
        sentinelPassword: 'watch',
        tls: true,
      });
      expect(Object.isFrozen(redis)).toBe(true);
    });

    it('requires the sentinels and the master name in sentinel mode, and refuses a URL beside them', () => {
      expect(problemsOf({ REDIS_MODE: 'sentinel', REDIS_URL: 'redis://cache:6379' })).toEqual([
        'REDIS_URL: not read when REDIS_MODE=sentinel (the sentinels name the master); unset it',
        'REDIS_SENTINELS: required when REDIS_MODE=sentinel (comma-separated host:port)',
        'REDIS_SENTINEL_NAME: required when REDIS_MODE=sentinel (the master name the sentinels monitor)',
      ]);
    });

    it('names each entry of REDIS_SENTINELS that is not host:port', () => {
      expect(problemsOf({ ...sentinel, REDIS_SENTINELS: 'good:26379, nohost, bad:0, also:99999,x y:1' })).toEqual([
        'REDIS_SENTINELS: entry 2 (not shown: it is not shaped like an address and may hold a secret) is not host:port with a port from 1 to 65535 (like sentinel-1:26379 or [::1]:26379)',
        'REDIS_SENTINELS: "bad:0" is not host:port with a port from 1 to 65535 (like sentinel-1:26379 or [::1]:26379)',
        'REDIS_SENTINELS: "also:99999" is not host:port with a port from 1 to 65535 (like sentinel-1:26379 or [::1]:26379)',
        'REDIS_SENTINELS: entry 5 (not shown: it is not shaped like an address and may hold a secret) is not host:port with a port from 1 to 65535 (like sentinel-1:26379 or [::1]:26379)',
      ]);
    });

    it('never echoes an entry that may be a password typed in the wrong place (outside review of issue 13)', () => {
      const problems = problemsOf({ REDIS_MODE: 'cluster', REDIS_CLUSTER_NODES: 'redis-1:6379,default:hunter2:127.0.0.1:7000,redis-2:7000?password=hunter2,redis-3:7000 hunter2,hunter2' });
      expect(problems).toEqual([2, 3, 4, 5].map((n) => `REDIS_CLUSTER_NODES: entry ${n} (not shown: it is not shaped like an address and may hold a secret) is not host:port with a port from 1 to 65535 (like redis-1:6379 or [::1]:6379)`));
      expect(problems.join('\n')).not.toContain('hunter2');
      // A host name longer than DNS allows is refused, not looked up (and logged) at start.
      expect(problemsOf({ REDIS_MODE: 'cluster', REDIS_CLUSTER_NODES: `${'a'.repeat(254)}:6379` })).toHaveLength(1);
      expect(loadConfig({ REDIS_MODE: 'cluster', REDIS_CLUSTER_NODES: `${'a'.repeat(253)}:6379` }).redis).toMatchObject({ nodes: [{ host: 'a'.repeat(253), port: 6379 }] });
    });

    it('refuses sentinel settings in standalone mode, where they would be ignored', () => {
      expect(problemsOf({ REDIS_URL: 'redis://cache:6379', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' })).toEqual([
        'REDIS_SENTINELS: only read when REDIS_MODE=sentinel',
        'REDIS_SENTINEL_NAME: only read when REDIS_MODE=sentinel',
      ]);
    });

    it('reads the seed nodes and the data nodes\' credentials in cluster mode', () => {
      const { redis } = loadConfig({ REDIS_MODE: 'cluster', REDIS_CLUSTER_NODES: 'node-1:6379, [::1]:7000', REDIS_USERNAME: 'svc', REDIS_PASSWORD: 'data', REDIS_TLS: 'true' });
      expect(redis).toEqual({ mode: 'cluster', nodes: [{ host: 'node-1', port: 6379 }, { host: '::1', port: 7000 }], username: 'svc', password: 'data', tls: true });
      expect(Object.isFrozen(redis)).toBe(true);
    });

    it('requires the seed nodes in cluster mode, and refuses settings of the other modes beside them', () => {
      expect(problemsOf({ REDIS_MODE: 'cluster' })).toEqual(['REDIS_CLUSTER_NODES: required when REDIS_MODE=cluster (comma-separated host:port of some of its nodes)']);
      expect(problemsOf({ REDIS_MODE: 'cluster', REDIS_CLUSTER_NODES: 'n:6379', REDIS_URL: 'redis://cache:6379', REDIS_SENTINEL_NAME: 'm' })).toEqual([
        'REDIS_SENTINEL_NAME: only read when REDIS_MODE=sentinel',
        'REDIS_URL: not read when REDIS_MODE=cluster (REDIS_CLUSTER_NODES names the seed nodes); unset it',
      ]);
      expect(problemsOf({ REDIS_URL: 'redis://cache:6379', REDIS_CLUSTER_NODES: 'n:6379' })).toEqual(['REDIS_CLUSTER_NODES: only read when REDIS_MODE=cluster']);
      expect(problemsOf({ REDIS_MODE: 'cluster', REDIS_CLUSTER_NODES: 'n:6379,user:pw@n2:6379' })).toEqual([
        'REDIS_CLUSTER_NODES: an entry with "@" (credentials belong in REDIS_PASSWORD or REDIS_SENTINEL_PASSWORD) is not host:port with a port from 1 to 65535 (like redis-1:6379 or [::1]:6379)',
      ]);
      expect(problemsOf({ REDIS_MODE: 'replicated' })).toEqual(['REDIS_MODE: must be standalone, sentinel or cluster']);
    });

    it('waits for no replica by default; REDIS_WAIT_REPLICAS and REDIS_WAIT_TIMEOUT_MS set how many and how long', () => {
      expect(loadConfig({}).redisWait).toEqual({ replicas: 0, timeoutMs: 200 });
      expect(loadConfig({ REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '50' }).redisWait).toEqual({ replicas: 1, timeoutMs: 50 });
      expect(problemsOf({ REDIS_WAIT_REPLICAS: '-1', REDIS_WAIT_TIMEOUT_MS: '0' })).toHaveLength(2);
    });

    it('accepts cluster settings in place of REDIS_URL in production', () => {
      const config = loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u@db/portcullis', SIGNING_KEYS_FILE: '/run/secrets/jwks.json', ISSUER: 'https://auth.example.com', REDIS_MODE: 'cluster', REDIS_CLUSTER_NODES: 'n:6379' });
      expect(config.redis?.mode).toBe('cluster');
    });

    it('accepts sentinel settings in place of REDIS_URL in production', () => {
      const config = loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u@db/portcullis', SIGNING_KEYS_FILE: '/run/secrets/jwks.json', ISSUER: 'https://auth.example.com', ...sentinel });
      expect(config.redis?.mode).toBe('sentinel');
      expect(problemsOf({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u@db/portcullis', SIGNING_KEYS_FILE: '/run/secrets/jwks.json', ISSUER: 'https://auth.example.com', REDIS_MODE: 'sentinel' })).toEqual([
        'REDIS_SENTINELS: required when REDIS_MODE=sentinel (comma-separated host:port)',
        'REDIS_SENTINEL_NAME: required when REDIS_MODE=sentinel (the master name the sentinels monitor)',
      ]);
    });
  });

  describe('production guard', () => {
    it('refuses the embedded defaults and names each missing variable', () => {
      const problems = problemsOf({ NODE_ENV: 'production' });
      expect(problems).toEqual([
        'DATABASE_URL: required when NODE_ENV=production',
        'REDIS_URL: required when NODE_ENV=production',
        'SIGNING_KEYS or SIGNING_KEYS_FILE: required when NODE_ENV=production',
        'ISSUER: required when NODE_ENV=production',
      ]);
    });

    it('accepts a complete production configuration and does not migrate by default', () => {
      const config = loadConfig({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://u@db/portcullis',
        REDIS_URL: 'redis://cache:6379',
        SIGNING_KEYS_FILE: '/run/secrets/jwks.json',
        ISSUER: 'https://auth.example.com',
      });
      expect(config.production).toBe(true);
      expect(config.migrateOnStart).toBe(false);
    });

    const complete = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://u@db/portcullis',
      REDIS_URL: 'redis://cache:6379',
      SIGNING_KEYS_FILE: '/run/secrets/jwks.json',
      ISSUER: 'https://auth.example.com',
    };

    it('refuses an http issuer for a host other than loopback (RFC 8414 §2)', () => {
      expect(problemsOf({ ...complete, ISSUER: 'http://auth.example.com' })).toEqual([
        'ISSUER: must use https when NODE_ENV=production (RFC 8414 §2); http is allowed only for a loopback host, or with ALLOW_INSECURE_ISSUER=true',
      ]);
      expect(problemsOf({ ...complete, ISSUER: 'http://10.0.0.7:8080' })).toHaveLength(1);
      expect(problemsOf({ ...complete, ISSUER: 'http://localhost.example.com' })).toHaveLength(1);
    });

    it.each(['http://localhost:8080', 'http://127.0.0.1:8080', 'http://127.9.9.9', 'http://[::1]:8080'])('accepts the loopback http issuer %p', (issuer) => {
      expect(loadConfig({ ...complete, ISSUER: issuer }).issuer).toBe(issuer);
    });

    it('accepts an http issuer only with the explicit override', () => {
      expect(loadConfig({ ...complete, ISSUER: 'http://auth.internal', ALLOW_INSECURE_ISSUER: 'true' }).issuer).toBe('http://auth.internal');
      expect(problemsOf({ ...complete, ISSUER: 'http://auth.internal', ALLOW_INSECURE_ISSUER: 'false' })).toHaveLength(1);
      expect(problemsOf({ ...complete, ALLOW_INSECURE_ISSUER: 'perhaps' })[0]).toMatch(/^ALLOW_INSECURE_ISSUER: must be true or false/);
    });

    it('still accepts an http issuer outside production', () => {
      expect(loadConfig({ ISSUER: 'http://auth.example.com' }).issuer).toBe('http://auth.example.com');
    });

    it.each([
      ['8192', '1'],
      ['19455', '2'],
      ['47103', '1'],
      ['12288', '2'],
      ['9215', '4'],
      ['8192', '3'],
    ])('refuses argon2id memory %p KiB with %p passes, below every row of OWASP’s table', (memory, time) => {
      expect(problemsOf({ ...complete, ARGON2_MEMORY_KIB: memory, ARGON2_TIME_COST: time })).toEqual([
        `ARGON2_MEMORY_KIB=${memory} with ARGON2_TIME_COST=${time}: below the OWASP argon2id minimum; in production use at least one of 47104 KiB × 1 pass, 19456 KiB × 2, 12288 KiB × 3, 9216 KiB × 4, 7168 KiB × 5`,
      ]);
    });

    it.each([
      ['19456', '2'],
      ['47104', '1'],
      ['12288', '3'],
      ['9216', '4'],
      ['8192', '5'],
      ['65536', '3'],
    ])('accepts argon2id memory %p KiB with %p passes, at or above a row of OWASP’s table', (memory, time) => {
      expect(loadConfig({ ...complete, ARGON2_MEMORY_KIB: memory, ARGON2_TIME_COST: time }).argon2).toMatchObject({ memoryKib: Number(memory), timeCost: Number(time) });
    });

    it('allows weaker argon2id settings outside production (fast tests, small machines)', () => {
      expect(loadConfig({ ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' }).argon2).toMatchObject({ memoryKib: 8192, timeCost: 1 });
    });

    it('rejects both key sources at once', () => {
      expect(problemsOf({ SIGNING_KEYS: '{}', SIGNING_KEYS_FILE: '/k.json' })).toEqual(['SIGNING_KEYS and SIGNING_KEYS_FILE: set one, not both']);
    });
  });
});

describe('durations', () => {
  it.each([
    ['900', 900],
    ['30s', 30],
    ['15m', 900],
    ['12h', 43200],
    ['7d', 604800],
    [' 5m ', 300],
  ])('reads %p as %p seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', 'm', '15x', '-5', '1.5h', '15 minutes', '1e3'])('rejects %p', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('settings refused after the outside review of issue 12/13 settings', () => {
  it.each(['https://auth.example.com/?a=1', 'https://auth.example.com/#f', 'https://user:pw@auth.example.com'])('refuses an ISSUER with a query, fragment or credentials: %p', (issuer) => {
    expect(problemsOf({ ISSUER: issuer })).toEqual([expect.stringMatching(/^ISSUER: must have no query, fragment or credentials/)]);
  });

  it('refuses LOGIN_DELAY_MIN above LOGIN_DELAY_MAX, and a per-address queue share above the queue', () => {
    expect(problemsOf({ LOGIN_DELAY_MIN: '15m', LOGIN_DELAY_MAX: '1m' })).toEqual([expect.stringMatching(/^LOGIN_DELAY_MIN: must not exceed LOGIN_DELAY_MAX/)]);
    expect(problemsOf({ ARGON2_MAX_QUEUE: '6', ARGON2_MAX_QUEUE_PER_ADDRESS: '50' })).toEqual([expect.stringMatching(/^ARGON2_MAX_QUEUE_PER_ADDRESS: must not exceed ARGON2_MAX_QUEUE/)]);
    expect(loadConfig({ LOGIN_DELAY_MIN: '1m', LOGIN_DELAY_MAX: '1m', ARGON2_MAX_QUEUE: '6', ARGON2_MAX_QUEUE_PER_ADDRESS: '6' }).throttle.pairMaxLockMs).toBe(60_000);
  });

  it.each(['0.0.0.0/1,128.0.0.0/1', '::ffff:0.0.0.0/96', '::/1', '10.0.0.0/7'])('refuses a TRUST_PROXY range wide enough to trust clients: %p', (value) => {
    expect(problemsOf({ TRUST_PROXY: value }).join('\n')).toMatch(/too wide a range/);
  });

  it('accepts ordinary proxy ranges', () => {
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8,2001:db8::/32,::ffff:10.0.0.0/104,loopback' }).trustProxy).toMatchObject({ kind: 'cidrs' });
  });

  it('never echoes credentials written into REDIS_SENTINELS', () => {
    const problems = problemsOf({ REDIS_MODE: 'sentinel', REDIS_SENTINEL_NAME: 'pc', REDIS_SENTINELS: 'default:s3cret-value@127.0.0.1:26379' });
    expect(problems.join('\n')).toMatch(/entry with "@"/);
    expect(problems.join('\n')).not.toContain('s3cret-value');
  });
});


describe('a config problem quotes a value', () => {
  it('whole when short, else its start and its length: a 100 KB value is not echoed whole', () => {
    const problems = (env: Record<string, string>): string => {
      try {
        loadConfig({ NODE_ENV: 'test', ...env });
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('expected the configuration to be refused');
    };
    expect(problems({ DATABASE_QUERY_TIMEOUT: '0' })).toContain('(got "0")');
    const long = problems({ DATABASE_QUERY_TIMEOUT: '9'.repeat(100_000) });
    expect(long).toContain(`(got "${'9'.repeat(40)}…" (100000 characters))`);
    expect(long.length).toBeLessThan(1000);
  });
});
