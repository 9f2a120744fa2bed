import { Command } from 'commander';
import { findUserByUsername } from '../identity/users';
import { listSessions, revokeAllSessions, revokeSession, type Session } from '../oauth/sessions';
import { auditCli } from './audit';
import { CliError, emit, withDeps, type CliDeps } from './context';

const describe = (s: Session): string =>
  `${s.id}\tclient=${s.clientId}\tcreated=${s.createdAt}\tlast-used=${s.lastUsedAt}\texpires=${s.expiresAt}\tip=${s.ip ?? '-'}\tagent=${s.userAgent ?? '-'}`;

async function userId(deps: CliDeps, username: string): Promise<string> {
  const user = await findUserByUsername(deps.db, username);
  if (!user) throw new CliError(`no such user: ${username}`, 'unknown_user');
  return user.id;
}

/** Logins (refresh-token families) of a user, in the shared token store. */
export function sessionCommand(): Command {
  const session = new Command('session').description("a user's logins (refresh-token families); needs Redis (REDIS_URL, or REDIS_MODE=sentinel or cluster)");

  session
    .command('list <username>')
    .description("list the user's live sessions, oldest first")
    .option('--json', 'machine-readable output')
    .action(async (username: string, options: { json?: boolean }) => {
      const sessions = await withDeps(async (deps) => listSessions(deps, await userId(deps, username)), { readsStore: true });
      emit(options.json, sessions, () => (sessions.length ? sessions.map(describe) : ['(no sessions)']));
    });

  session
    .command('revoke <username> <session-id>')
    .description('end one session: its refresh token and access tokens stop working (put -- before an id that begins with "-")')
    .option('--json', 'machine-readable output')
    .action(async (username: string, sessionId: string, options: { json?: boolean }) => {
      const revoked = await withDeps(async (deps) => {
        const id = await userId(deps, username);
        const ended = await revokeSession(deps, id, sessionId);
        if (ended) auditCli(deps, 'session_revoked', id, { sessionId });
        return ended;
      }, { readsStore: true });
      if (!revoked) throw new CliError(`no live session ${sessionId} for ${username}`);
      emit(options.json, { revoked: 1 }, () => [`revoked session ${sessionId}`]);
    });

  session
    .command('revoke-all <username>')
    .description('log the user out everywhere')
    .option('--json', 'machine-readable output')
    .action(async (username: string, options: { json?: boolean }) => {
      const revoked = await withDeps(async (deps) => {
        const id = await userId(deps, username);
        const count = await revokeAllSessions(deps, id);
        auditCli(deps, 'sessions_revoked', id, { revoked: count });
        return count;
      }, { readsStore: true });
      emit(options.json, { revoked }, () => [`revoked ${revoked} session(s) of ${username}`]);
    });

  return session;
}
