import type { Database } from '../db/database';

export interface Role {
  readonly name: string;
  readonly parent: string | null;
  readonly description: string | null;
  /** Scopes given by this role itself. */
  readonly scopes: readonly string[];
  /** Its own scopes plus those of every role below it. */
  readonly effectiveScopes: readonly string[];
}

export async function listRoles(db: Database): Promise<Role[]> {
  const [rows, links] = await Promise.all([
    db('roles').orderBy('name').select<Array<{ name: string; parent: string | null; description: string | null }>>('name', 'parent', 'description'),
    db('role_scopes').orderBy('scope').select<Array<{ role: string; scope: string }>>('role', 'scope'),
  ]);
  const own = new Map(rows.map((row) => [row.name, links.filter((link) => link.role === row.name).map((link) => link.scope)]));
  const parentOf = new Map(rows.map((row) => [row.name, row.parent]));
  const effective = (name: string): string[] => {
    const scopes = new Set<string>();
    const seen = new Set<string>();
    for (let role: string | null | undefined = name; role && !seen.has(role); role = parentOf.get(role)) {
      seen.add(role);
      for (const scope of own.get(role) ?? []) scopes.add(scope);
    }
    return [...scopes].sort();
  };
  return rows.map((row) => ({ ...row, scopes: own.get(row.name) ?? [], effectiveScopes: effective(row.name) }));
}
