import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

// Every metric of the service (README "Observability" lists them). Prometheus conventions: the
// `portcullis_` prefix, base units (seconds), `_total` on counters. Labels are bounded: route
// templates, never raw URLs; client ids only of authenticated clients (as many as are
// registered); never a user id, a token id or an address. The gauges read at scrape time
// (hash queue, signing keys, dependencies) are in dependency-metrics.ts, beside what they read. The process metrics keep
// prom-client's standard names (`process_*`, `nodejs_*`), which existing dashboards expect.

/** Request latencies: introspection answers in about a millisecond, a login in tens of them. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Waiting for an argon2 slot: nothing, or up to the seconds a storm takes to drain. */
const QUEUE_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({ name: 'portcullis_http_requests_total', help: 'HTTP requests answered, by method, route template (`unmatched` when no route matched) and status code.', labelNames: ['method', 'route', 'code'] as const, registers }),
    httpDuration: new Histogram({ name: 'portcullis_http_request_duration_seconds', help: 'Time from the request reaching the service to its response, by method and route template.', labelNames: ['method', 'route'] as const, buckets: LATENCY_BUCKETS, registers }),
    tokensIssued: new Counter({ name: 'portcullis_tokens_issued_total', help: 'Access tokens issued, by grant type and client.', labelNames: ['grant_type', 'client_id'] as const, registers }),
    refreshRotations: new Counter({ name: 'portcullis_refresh_rotations_total', help: 'Refresh tokens rotated (a refresh_token grant that issued new tokens), by client.', labelNames: ['client_id'] as const, registers }),
    refreshGraceReplays: new Counter({ name: 'portcullis_refresh_grace_replays_total', help: 'Refresh tokens presented again within REFRESH_REUSE_GRACE and answered with the same rotation, by client.', labelNames: ['client_id'] as const, registers }),
    refreshReuse: new Counter({ name: 'portcullis_refresh_reuse_detections_total', help: 'Refresh tokens used again after rotation (theft suspected: the login was ended), by client.', labelNames: ['client_id'] as const, registers }),
    refreshRefused: new Counter({ name: 'portcullis_refresh_refusals_total', help: 'Refresh tokens refused, by reason.', labelNames: ['reason'] as const, registers }),
    familiesRevoked: new Counter({ name: 'portcullis_families_revoked_total', help: 'Logins (refresh-token families) ended by the service because of a detected attack, by reason.', labelNames: ['reason'] as const, registers }),
    introspections: new Counter({ name: 'portcullis_introspections_total', help: 'RFC 7662 introspection answers, by result (active or inactive).', labelNames: ['result'] as const, registers }),
    logins: new Counter({ name: 'portcullis_logins_total', help: 'Successful user logins, by way (password grant or login page).', labelNames: ['via'] as const, registers }),
    loginFailures: new Counter({ name: 'portcullis_login_failures_total', help: 'User logins refused for a wrong username or password.', registers }),
    loginThrottled: new Counter({ name: 'portcullis_login_throttled_total', help: 'User logins refused before the password was checked, by throttle reason.', labelNames: ['reason'] as const, registers }),
    clientAuthFailures: new Counter({ name: 'portcullis_client_auth_failures_total', help: 'Client authentications refused for wrong credentials.', registers }),
    clientAuthThrottled: new Counter({ name: 'portcullis_client_auth_throttled_total', help: 'Client authentications refused by the throttle before the secret was checked.', registers }),
    hashWait: new Histogram({ name: 'portcullis_password_hash_wait_seconds', help: 'Time a password hash waited for a slot before it ran.', buckets: QUEUE_BUCKETS, registers }),
    hashRefused: new Counter({ name: 'portcullis_password_hash_refused_total', help: 'Password hashes refused a waiting place, by reason (queue_full: 503; owner_share: one address over its share, 429).', labelNames: ['reason'] as const, registers }),
    redisDuration: new Histogram({ name: 'portcullis_redis_command_duration_seconds', help: 'Redis commands, from sending to the reply, by command.', labelNames: ['command'] as const, buckets: LATENCY_BUCKETS, registers }),
    redisErrors: new Counter({ name: 'portcullis_redis_command_errors_total', help: 'Redis commands that failed (an error reply, a timeout, no connection), by command.', labelNames: ['command'] as const, registers }),
    dbDuration: new Histogram({ name: 'portcullis_database_query_duration_seconds', help: 'PostgreSQL queries, from sending to the result, by kind of statement.', labelNames: ['method'] as const, buckets: LATENCY_BUCKETS, registers }),
    dbErrors: new Counter({ name: 'portcullis_database_query_errors_total', help: 'PostgreSQL queries that failed, by kind of statement.', labelNames: ['method'] as const, registers }),
    keyReloads: new Counter({ name: 'portcullis_signing_key_reloads_total', help: 'Reloads of the signing keys, by outcome (reloaded or failed: the previous keys stay).', labelNames: ['outcome'] as const, registers }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
