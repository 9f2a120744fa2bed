import { Command } from 'commander';
import { removeUser, setUserDisabled, setUserPassword, registerUser } from '../identity/user-lifecycle';
import { findUserByUsername, listUsers, type User } from '../identity/users';
import { auditCli } from './audit';
import { CliError, collect, emit, readPassword, requireYes, withDeps } from './context';

const describe = (user: User): string =>
  `${user.username}\t${user.id}\t${user.disabled ? 'disabled' : 'enabled'}\troles=${user.roles.join(',') || '-'}\tscopes=${user.scopes.join(' ') || '-'}`;

export function userCommand(): Command {
  const user = new Command('user').description('manage users');

  user
    .command('create')
    .description('create a user')
    .requiredOption('--username <username>')
    .option('--password <password>', 'the password (visible in the process list: prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--email <email>')
    .option('--name <name>', 'full name')
    .option('--role <role>', 'a role (repeatable)', collect, [])
    .option('--scope <scope>', 'a scope granted directly (repeatable)', collect, [])
    .option('--json', 'machine-readable output')
    .action(async (options: { username: string; password?: string; passwordStdin?: boolean; email?: string; name?: string; role: string[]; scope: string[]; json?: boolean }) => {
      const password = await readPassword(options);
      const created = await withDeps(async (deps) => {
        const made = await registerUser(deps, { username: options.username, password, email: options.email, fullName: options.name, roles: options.role, scopes: options.scope });
        auditCli(deps, 'user_created', made.id, { username: made.username, email: made.email, fullName: made.fullName, roles: made.roles, scopes: made.scopes });
        return made;
      });
      emit(options.json, created, () => [`created user ${describe(created)}`]);
    });

  user
    .command('list')
    .description('list users')
    .option('--prefix <prefix>', 'only usernames starting with this')
    .option('--json', 'machine-readable output')
    .action(async (options: { prefix?: string; json?: boolean }) => {
      const users = await withDeps((deps) => listUsers(deps.db, { prefix: options.prefix, limit: 10_000 }));
      emit(options.json, users, () => (users.length ? users.map(describe) : ['(no users)']));
    });

  for (const [name, disabled] of [['disable', true], ['enable', false]] as const) {
    user
      .command(`${name} <username>`)
      .description(disabled ? 'disable a user; their tokens stop working at once' : 'enable a disabled user')
      .option('--json', 'machine-readable output')
      .action(async (username: string, options: { json?: boolean }) => {
        const changed = await withDeps(async (deps) => {
          const user = await setUserDisabled(deps, username, disabled);
          auditCli(deps, disabled ? 'user_disabled' : 'user_enabled', user.id);
          return user;
        }, { revokes: disabled });
        emit(options.json, changed, () => [`${name}d user ${changed.username}`]);
      });
  }

  user
    .command('set-password <username>')
    .description("set a user's password; tokens issued before stop working")
    .option('--password <password>')
    .option('--password-stdin', 'read the password from standard input')
    .option('--json', 'machine-readable output')
    .action(async (username: string, options: { password?: string; passwordStdin?: boolean; json?: boolean }) => {
      const password = await readPassword(options);
      const changed = await withDeps(async (deps) => {
        const user = await setUserPassword(deps, username, password);
        auditCli(deps, 'user_password_set', user.id, { passwordChanged: true });
        return user;
      }, { revokes: true });
      emit(options.json, changed, () => [`password set for ${changed.username}`]);
    });

  user
    .command('delete <username>')
    .description('delete a user: their access tokens, logins and browser sessions end with them (needs --yes)')
    .option('--yes', 'confirm the deletion')
    .option('--json', 'machine-readable output')
    .action(async (username: string, options: { yes?: boolean; json?: boolean }) => {
      requireYes(options, `user delete ${username} deletes the user and ends their sessions`);
      // The admin API's deletion (identity/user-lifecycle.ts removeUser): tokens end before and after the row goes.
      const deleted = await withDeps(
        async (deps) => {
          const found = await findUserByUsername(deps.db, username);
          if (!found) throw new CliError(`no such user: ${username}`, 'unknown_user');
          await removeUser(deps, found.id);
          auditCli(deps, 'user_deleted', found.id, { username: found.username });
          return { id: found.id, username: found.username };
        },
        { revokes: true },
      );
      emit(options.json, { ...deleted, deleted: true }, () => [`deleted user ${deleted.username} (${deleted.id})`]);
    });

  return user;
}
