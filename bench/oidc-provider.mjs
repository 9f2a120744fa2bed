// node-oidc-provider, configured for the side-by-side benchmark: the same Redis (through an
// ioredis adapter), one confidential client allowed client_credentials, introspection on;
// opaque access tokens without a `resource`, JWT access tokens (ES256) with one.
import Provider from 'oidc-provider';
import { Redis } from 'ioredis';

const { REDIS_URL, CLIENT_ID, CLIENT_SECRET, SIGNING_JWK, RESOURCE } = process.env;
const redis = new Redis(REDIS_URL, { keyPrefix: 'oidc-bench:' });

// The storage contract oidc-provider expects of an adapter (see its docs): one model per name.
class RedisAdapter {
  constructor(name) {
    this.name = name;
  }
  key(id) {
    return `${this.name}:${id}`;
  }
  async upsert(id, payload, expiresIn) {
    const multi = redis.multi().set(this.key(id), JSON.stringify(payload));
    if (expiresIn) multi.expire(this.key(id), expiresIn);
    if (payload.grantId) {
      multi.rpush(`grant:${payload.grantId}`, this.key(id));
      if (expiresIn) multi.expire(`grant:${payload.grantId}`, expiresIn);
    }
    if (payload.uid) multi.set(`uid:${payload.uid}`, id, 'EX', expiresIn ?? 3600);
    if (payload.userCode) multi.set(`userCode:${payload.userCode}`, id, 'EX', expiresIn ?? 3600);
    await multi.exec();
  }
  async find(id) {
    const data = await redis.get(this.key(id));
    return data ? JSON.parse(data) : undefined;
  }
  async findByUid(uid) {
    const id = await redis.get(`uid:${uid}`);
    return id ? this.find(id) : undefined;
  }
  async findByUserCode(userCode) {
    const id = await redis.get(`userCode:${userCode}`);
    return id ? this.find(id) : undefined;
  }
  async consume(id) {
    const data = await this.find(id);
    if (data) await redis.set(this.key(id), JSON.stringify({ ...data, consumed: Math.floor(Date.now() / 1000) }), 'KEEPTTL');
  }
  async destroy(id) {
    await redis.del(this.key(id));
  }
  async revokeByGrantId(grantId) {
    const keys = await redis.lrange(`grant:${grantId}`, 0, -1);
    if (keys.length > 0) await redis.del(...keys.map((key) => key.replace(/^oidc-bench:/, '')));
    await redis.del(`grant:${grantId}`);
  }
}

const provider = new Provider('http://127.0.0.1', {
  adapter: RedisAdapter,
  jwks: { keys: [JSON.parse(SIGNING_JWK)] },
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      introspection_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
      scope: 'items:read',
    },
  ],
  scopes: ['items:read'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        if (resource !== RESOURCE) throw new Error('unknown resource');
        return { scope: 'items:read', audience: RESOURCE, accessTokenFormat: 'jwt', accessTokenTTL: 900, jwt: { sign: { alg: 'ES256' } } };
      },
    },
  },
  enabledJWA: { requestObjectSigningAlgValues: ['ES256'], idTokenSigningAlgValues: ['ES256'] },
});
provider.proxy = true;

const server = provider.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ event: 'server.started', port: server.address().port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
