import type { Knex } from 'knex';
import type { Database } from '../db/database';
import { IdentityError } from './errors';

// A client that a clients file manages (`clients.managed_by`, migration 0004) changes only
// through the file: its next apply would undo any other change. The refusal is made where the
// change is, under the client row's lock, so no apply can mark the client between the check and
// the change.

/** Who changes a client: by hand (admin API, CLI), or a clients file's apply (managed-clients.ts). */
export type ChangedBy = 'hand' | 'clients-file';

/** A mark as messages show it: a path may hold control characters, which must not reach a terminal. */
export function printableMark(mark: string): string {
  return mark.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function managedClientError(id: string, mark: string): IdentityError {
  return new IdentityError('managed_client', `client ${id} is managed by the clients file ${printableMark(mark)}: change it there`);
}

/**
 * Locks the client's row (FOR UPDATE) for a change in `trx` and refuses a change by hand of a
 * managed client. Undefined when there is no such client; else the locked row.
 */
export async function lockClientRow<Row extends object>(trx: Knex.Transaction, id: string, by: ChangedBy): Promise<Row | undefined> {
  // `*`: also on a schema before 0004 (a rolling upgrade's previous step), which has no mark.
  const row = await trx('clients').where({ id }).forUpdate().first<(Row & { managed_by?: string | null }) | undefined>('*');
  if (row && by === 'hand' && row.managed_by) throw managedClientError(id, row.managed_by);
  return row;
}

/** The mark of the clients file that manages this client, if one does (what `client show` may say). */
export async function clientManager(db: Database, id: string): Promise<string | undefined> {
  const row = await db('clients').where({ id }).first<{ managed_by: string | null } | undefined>('managed_by');
  return row?.managed_by ?? undefined;
}
