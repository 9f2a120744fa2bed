import type { OutageTest } from '../fail-closed';

// Socket-level failures (Node's errno codes) on the way to Redis.
const TRANSPORT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

// Replies that mean "not now" rather than "no": a server still loading its data set, a script
// still running, a cluster or replica set without quorum, a full Redis under noeviction (OOM), a
// replica after a failover (READONLY). Any other reply is an answer (or a bug).
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|OOM|READONLY)\b/;

// ioredis rejects a command with this when the connection closed under it.
const CONNECTION_CLOSED = 'Connection is closed.';

// ioredis rejects a command with this when it was issued while the connection was down (no
// offline queue). With auto-pipelining the rejection can come a turn later, once the client has
// reconnected and is 'ready' again (outside round: a dropped connection answered 500).
const NOT_WRITABLE = "Stream isn't writeable and enableOfflineQueue options is false";

// ioredis rejects a command with this when the server did not answer within commandTimeout.
const TIMED_OUT = 'Command timed out';

// A cluster client gives up on a command with these while a master is gone or the cluster is
// down: the status of the client as a whole stays 'ready', and the node's own error is wrapped.
const CLUSTER_GAVE_UP = /^(Too many Cluster redirections|Cluster isn't ready|Failed to refresh slots cache)/;

/**
 * Whether a failed store call means Redis could not answer. The client is built with
 * enableOfflineQueue false and maxRetriesPerRequest 1, so while it is not connected every
 * command fails at once; any failure other than a server reply while it is not 'ready' is
 * therefore the outage, whatever ioredis's wording.
 */
export function redisOutage(redis: { readonly status: string }): OutageTest {
  return (error) => {
    if (!(error instanceof Error)) return false;
    if (error.name === 'ReplyError') return TRANSIENT_REPLY.test(error.message);
    if (CLUSTER_GAVE_UP.test(error.message) || error.name === 'ClusterAllFailedError' || error.message === TIMED_OUT) return true;
    if (redis.status !== 'ready') return true;
    if (error.name === 'MaxRetriesPerRequestError' || error.message === CONNECTION_CLOSED || error.message === NOT_WRITABLE) return true;
    const code = (error as NodeJS.ErrnoException).code;
    return code !== undefined && TRANSPORT_CODES.has(code);
  };
}
