import type { EventHub } from '../events/hub';
import type { Metrics } from './registry';

/**
 * The security counters, from the event hub (events/catalogue.ts): each fact is emitted once
 * where it happens, so each is counted once. Failure counters carry no client label: a failed
 * client authentication names whatever client id the caller typed, which would let anyone add
 * series. Returns the function that unsubscribes.
 */
export function subscribeEventMetrics(events: EventHub, metrics: Metrics): () => void {
  // Introspection emits on the hot path: its two series are bound once.
  const active = metrics.introspections.labels('active');
  const inactive = metrics.introspections.labels('inactive');
  const passwordLogins = metrics.logins.labels('password_grant');
  const pageLogins = metrics.logins.labels('login_page');
  const unsubscribe = [
    events.on('introspection.answered', ({ active: isActive }) => (isActive ? active : inactive).inc()),
    events.on('token.issued', ({ grant, clientId }) => {
      metrics.tokensIssued.labels(grant, clientId).inc();
      if (grant === 'password') passwordLogins.inc();
    }),
    events.on('token.refreshed', ({ clientId }) => {
      metrics.tokensIssued.labels('refresh_token', clientId).inc();
      metrics.refreshRotations.labels(clientId).inc();
    }),
    events.on('refresh.replayed', ({ clientId }) => metrics.refreshGraceReplays.labels(clientId).inc()),
    events.on('refresh.reuse_detected', ({ clientId }) => metrics.refreshReuse.labels(clientId).inc()),
    events.on('refresh.refused', ({ reason }) => metrics.refreshRefused.labels(reason).inc()),
    // Each attack ends its login in the same step: one event says both.
    events.on('refresh.reuse_detected', () => metrics.familiesRevoked.labels('reuse_detected').inc()),
    events.on('code.replayed', ({ familyId }) => {
      if (familyId !== undefined) metrics.familiesRevoked.labels('code_replayed').inc();
    }),
    events.on('login.succeeded', () => pageLogins.inc()),
    events.on('login.failed', () => metrics.loginFailures.inc()),
    events.on('login.throttled', ({ reason }) => metrics.loginThrottled.labels(reason).inc()),
    events.on('client_auth.failed', () => metrics.clientAuthFailures.inc()),
    events.on('client_auth.throttled', () => metrics.clientAuthThrottled.inc()),
    events.on('keys.reloaded', () => metrics.keyReloads.labels('reloaded').inc()),
    events.on('keys.reload_failed', () => metrics.keyReloads.labels('failed').inc()),
  ];
  return () => {
    for (const off of unsubscribe) off();
  };
}
