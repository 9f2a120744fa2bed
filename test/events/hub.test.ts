import { createEvents } from '../../src/events/create-events';
import { EventHub } from '../../src/events/hub';
import { createLogger } from '../../src/logging/logger';
import { LogCapture } from '../support/logs';

const issued = { grant: 'password', userId: 'u1', clientId: 'console', jti: 'j1', scope: 'a', ip: '10.0.0.1', requestId: 'r1' } as const;

describe('event hub', () => {
  it('calls listeners of the name, then listeners of every event, in order, synchronously', () => {
    const hub = new EventHub();
    const seen: string[] = [];
    hub.on('token.issued', (payload) => seen.push(`one:${payload.jti}`));
    hub.on('login.failed', () => seen.push('other'));
    hub.onAny((event) => seen.push(`any:${event.name}`));
    hub.emit('token.issued', issued);
    expect(seen).toEqual(['one:j1', 'any:token.issued']);
  });

  it('never lets a throwing listener break the emitter or the listeners after it', () => {
    const errors: unknown[] = [];
    const hub = new EventHub((error) => errors.push(error));
    const seen: string[] = [];
    hub.on('token.issued', () => {
      throw new Error('broken metrics');
    });
    hub.onAny(() => seen.push('log'));
    expect(() => hub.emit('token.issued', issued)).not.toThrow();
    expect(seen).toEqual(['log']);
    expect(errors).toHaveLength(1);
  });

  it('unsubscribes', () => {
    const hub = new EventHub();
    let calls = 0;
    const off = hub.on('token.issued', () => calls++);
    const offAny = hub.onAny(() => calls++);
    off();
    offAny();
    hub.emit('token.issued', issued);
    expect(calls).toBe(0);
  });

  it('writes each event as one log line with its audit fields and request id', () => {
    const logs = new LogCapture();
    const hub = createEvents(createLogger('info', logs));
    hub.emit('token.issued', issued);
    hub.emit('introspection.answered', { active: true, clientId: 'api', secretId: 's1' });
    expect(logs.lines()).toHaveLength(1); // introspection is logged at debug only
    expect(logs.events('token.issued')[0]).toMatchObject({
      level: 'info',
      msg: 'access token issued',
      grant: 'password',
      userId: 'u1',
      reqId: 'r1',
      audit: true,
      outcome: 'success',
      actor: 'u1',
      subject: 'u1',
      client: 'console',
      address: '10.0.0.1',
    });
    expect(logs.events('token.issued')[0]).not.toHaveProperty('requestId');
  });

  it('logs an admin action under its admin.<action> name', () => {
    const logs = new LogCapture();
    const hub = createEvents(createLogger('info', logs));
    hub.emit('admin.action', { actor: 'admin-id', actorClient: 'console', action: 'client_secret_rotated', target: 'api', outcome: 'success', via: 'api', changes: { secretId: 's2' } });
    expect(logs.events('admin.client_secret_rotated')).toEqual([expect.objectContaining({ actor: 'admin-id', target: 'api', subject: 'api', client: 'console', outcome: 'success', audit: true })]);
  });
});
