import { chmodSync, chownSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { AUDIT_REOPEN_CHECK_MS, subscribeAuditFile } from '../../src/events/audit-file';
import { EventHub } from '../../src/events/hub';
import { createLogger } from '../../src/logging/logger';
import { LogCapture } from '../support/logs';
import path from 'node:path';
import request from 'supertest';
import type Koa from 'koa';
import type { AppState } from '../../src/http/context';
import type { TestDeps } from '../support/deps';
import { tempDir } from '../support/env';
import { oauthFixture, basic, RS_SECRET, SERVICE_SECRET } from '../support/oauth-fixture';
import { runCli } from '../support/process';

jest.setTimeout(120_000);

const lines = (file: string): Array<Record<string, unknown>> =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

// Issue 16: the audit trail in AUDIT_LOG_FILE: one JSON line per audited event, with actor,
// subject, client, address, request id and outcome, and never a secret, token or password.
describe('AUDIT_LOG_FILE', () => {
  const file = path.join(tempDir(), 'audit.jsonl');
  let deps: TestDeps;
  let app: Koa<AppState>;

  beforeAll(async () => {
    ({ deps, app } = await oauthFixture({ AUDIT_LOG_FILE: file }));
  });
  afterAll(async () => deps.cleanup());

  it('gets one line per audited event with the common fields, mode 0600, and no secret', async () => {
    const post = (url: string) => request(app.callback()).post(url).type('form');
    const login = await post('/oauth/token').set('X-Request-Id', 'audit-req-1').send({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'alice-password' });
    expect(login.status).toBe(200);
    expect((await post('/oauth/token').send({ grant_type: 'password', client_id: 'spa', username: 'alice', password: 'a-wrong-password' })).status).toBe(400);
    const service = await post('/oauth/token').set('Authorization', basic('service', SERVICE_SECRET)).send({ grant_type: 'client_credentials' });
    expect(service.status).toBe(200);
    await post('/oauth/introspect').set('Authorization', basic('rs', RS_SECRET)).send({ token: login.body.access_token });
    await post('/oauth/token').send({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: login.body.refresh_token });

    expect(statSync(file).mode & 0o777).toBe(0o600);
    const written = lines(file);
    expect(written.map((line) => line.event)).toEqual(['token.issued', 'login.failed', 'token.issued', 'token.refreshed']); // introspection is not audited
    expect(written[0]).toMatchObject({ audit: true, outcome: 'success', actor: expect.any(String), subject: expect.any(String), client: 'spa', address: expect.any(String), reqId: 'audit-req-1', time: expect.any(String), grant: 'password' });
    expect(written[1]).toMatchObject({ outcome: 'failure', subject: 'alice', client: 'spa' });
    expect(written[2]).toMatchObject({ outcome: 'success', actor: 'service', client: 'service', grant: 'client_credentials' });
    const text = readFileSync(file, 'utf8');
    for (const secret of ['alice-password', 'a-wrong-password', SERVICE_SECRET, RS_SECRET, login.body.access_token, login.body.refresh_token, service.body.access_token]) {
      expect(text).not.toContain(secret);
    }
  });
});

// The CLI's changes are audited as the admin API's: same event, actor cli:<os user>.
describe('AUDIT_LOG_FILE and the CLI', () => {
  it('gets an admin.action line for a CLI change, without the password', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'cli-audit.jsonl');
    const env = { DATA_DIR: dir, ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1', AUDIT_LOG_FILE: file };
    const created = await runCli(['user', 'create', '--username', 'audited', '--password', 'audited-password-1', '--json'], env);
    expect(created.code).toBe(0);
    const written = lines(file);
    expect(written).toEqual([
      expect.objectContaining({ event: 'admin.user_created', action: 'user_created', via: 'cli', audit: true, outcome: 'success', actor: expect.stringMatching(/^cli:/), target: (JSON.parse(created.stdout) as { id: string }).id }),
    ]);
    expect(readFileSync(file, 'utf8')).not.toContain('audited-password-1');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses to run a change it cannot record: an audit file in a directory that does not exist is a JSON error naming the file, and nothing is changed', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'missing', 'audit.jsonl');
    const env = { DATA_DIR: dir, ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1', AUDIT_LOG_FILE: file };
    const refused = await runCli(['user', 'create', '--username', 'unrecorded', '--password', 'unrecorded-password-1', '--json'], env);
    expect(refused.code).toBe(1);
    const last = JSON.parse(refused.stderr.trim().split('\n').pop()!) as { error: string; error_description: string };
    expect(last).toEqual({ error: 'audit_file_unavailable', error_description: expect.stringContaining(`AUDIT_LOG_FILE ${file} cannot be opened for appending: ENOENT`) });
    const listed = await runCli(['user', 'list', '--json'], { DATA_DIR: dir });
    expect(JSON.parse(listed.stdout)).toEqual([]);
  });
});

// An operator's bad days: logrotate moves the file away; the disk fills up.
describe('AUDIT_LOG_FILE across rotation and a failing disk', () => {
  const audited = (hub: EventHub, target: string) => hub.emit('admin.action', { actor: 'cli:test', action: 'user_updated', target, outcome: 'success', via: 'cli' });

  it('follows a rotation (the file moved away) by opening the path again, without a signal', () => {
    const dir = tempDir();
    const file = path.join(dir, 'audit.jsonl');
    const hub = new EventHub();
    let clock = 0;
    const close = subscribeAuditFile(hub, file, { monotonic: () => clock });
    try {
      audited(hub, 'before');
      renameSync(file, `${file}.1`); // logrotate's default (create) mode
      clock += AUDIT_REOPEN_CHECK_MS;
      audited(hub, 'after');
      expect(lines(`${file}.1`).map((line) => line.target)).toEqual(['before']);
      expect(lines(file).map((line) => line.target)).toEqual(['after']);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      close();
    }
  });

  it('keeps writing to the rotated file while the path cannot be opened again, and warns once', () => {
    const dir = tempDir();
    const file = path.join(dir, 'audit.jsonl');
    const capture = new LogCapture();
    const hub = new EventHub();
    const close = subscribeAuditFile(hub, file, { log: createLogger('info', capture), reopenCheckMs: 0 });
    try {
      audited(hub, 'before');
      renameSync(file, `${file}.1`);
      mkdirSync(file); // the path is now something that cannot be opened for append
      audited(hub, 'kept-1');
      audited(hub, 'kept-2');
      expect(lines(`${file}.1`).map((line) => line.target)).toEqual(['before', 'kept-1', 'kept-2']);
      expect(capture.events('audit.reopen_failed')).toHaveLength(1);
      expect(capture.events('audit.write_failed')).toHaveLength(0);
    } finally {
      close();
    }
  });

  it('leaves the mode of a file it does not own alone (logrotate\'s `create` with an owner and mode of the operator\'s choice)', () => {
    const dir = tempDir();
    const file = path.join(dir, 'audit.jsonl');
    writeFileSync(file, '', { mode: 0o666 });
    chmodSync(file, 0o666);
    const ours = process.getuid?.() === 0;
    if (ours) chownSync(file, 4242, 4242); // as root: someone else's file that root may write
    const hub = new EventHub();
    const close = subscribeAuditFile(hub, file);
    try {
      audited(hub, 'written');
      expect(lines(file).map((line) => line.target)).toEqual(['written']);
      expect(statSync(file).mode & 0o777).toBe(ours ? 0o666 : 0o600);
    } finally {
      close();
    }
  });

  it('never fails the request on a full disk: one error line, the lost lines counted, and a recovery line', () => {
    const dir = tempDir();
    const file = path.join(dir, 'audit.jsonl');
    symlinkSync('/dev/full', file); // every write: ENOSPC
    const capture = new LogCapture();
    const hub = new EventHub();
    const close = subscribeAuditFile(hub, file, { log: createLogger('info', capture), reopenCheckMs: 0 });
    try {
      for (let i = 0; i < 5; i += 1) expect(() => audited(hub, `lost-${i}`)).not.toThrow();
      expect(capture.events('audit.write_failed')).toEqual([expect.objectContaining({ reason: 'ENOSPC', level: 'error' })]);
      // The operator frees space by pointing the path at a working file (as a rotation would).
      unlinkSync(file);
      audited(hub, 'kept');
      expect(lines(file).map((line) => line.target)).toEqual(['kept']);
      expect(capture.events('audit.write_recovered')).toEqual([expect.objectContaining({ dropped: 5 })]);
      expect(capture.events('audit.write_failed')).toHaveLength(1);
    } finally {
      close();
    }
  });
});
