import { Command } from 'commander';
import { listRoles } from '../identity/roles';
import { emit, withDeps } from './context';

export function roleCommand(): Command {
  const role = new Command('role').description('roles and their scopes');
  role
    .command('list')
    .description('list roles with their own and inherited scopes')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const roles = await withDeps((deps) => listRoles(deps.db));
      emit(options.json, roles, () =>
        roles.map((r) => `${r.name}\tparent=${r.parent ?? '-'}\tscopes=${r.scopes.join(' ')}\teffective=${r.effectiveScopes.join(' ')}`),
      );
    });
  return role;
}
