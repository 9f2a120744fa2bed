import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Migration } from './index';

// The id format of identity/client-secret-store.ts (`cs_` + 12 base64url characters), written
// here again: a migration is a snapshot and does not follow later changes to src/.
const secretId = (): string => `cs_${randomBytes(9).toString('base64url')}`;

/**
 * Issue 15, client secrets with overlap: a confidential client's secrets move to a table of
 * their own, so a client can hold an old and a new secret during a rotation, each with its own
 * expiry (`not_after`) and last use.
 *
 * Rolling upgrade: instances of the previous release read `clients.secret_hash` and nothing
 * else, so the column stays, and the current release keeps writing the newest active secret's
 * hash into it on every change (identity/client-secret-store.ts). Nothing is dropped here; a
 * later migration may drop the column once no release reads it.
 */
export const clientSecrets: Migration = {
  name: '0003-client-secrets',
  async up(knex: Knex) {
    await knex.schema.createTable('client_secrets', (table) => {
      // A short public id, shown to operators and logged; never the secret.
      table.text('id').primary();
      table.text('client_id').notNullable().references('id').inTable('clients').onDelete('CASCADE');
      table.text('secret_hash').notNullable();
      table.timestamp('created_at', { useTz: true }).notNullable();
      // null: no expiry. Authentication tries only secrets whose not_after is still ahead.
      table.timestamp('not_after', { useTz: true }).nullable();
      // Written from memory at most once a minute per secret (identity/client-secret-uses.ts).
      table.timestamp('last_used_at', { useTz: true }).nullable();
      table.index(['client_id']);
    });

    // Every existing secret becomes its client's one secret, created when it was last rotated.
    const rows = await knex('clients')
      .whereNotNull('secret_hash')
      .select<Array<{ id: string; secret_hash: string; secret_rotated_at: Date | null; created_at: Date }>>('id', 'secret_hash', 'secret_rotated_at', 'created_at');
    const secrets = rows.map((row) => ({ id: secretId(), client_id: row.id, secret_hash: row.secret_hash, created_at: row.secret_rotated_at ?? row.created_at }));
    for (let start = 0; start < secrets.length; start += 500) await knex('client_secrets').insert(secrets.slice(start, start + 500));
  },
  async down(knex: Knex) {
    // clients.secret_hash already holds the newest active secret (see above); written again from
    // the table in case something wrote only there. The previous release then accepts that one.
    await knex.raw(`
      update clients c set secret_hash = s.secret_hash
      from (
        select distinct on (client_id) client_id, secret_hash from client_secrets
        order by client_id, (not_after is null or not_after > now()) desc, created_at desc, id desc
      ) s
      where s.client_id = c.id and c.type = 'confidential'`);
    await knex.schema.dropTableIfExists('client_secrets');
  },
};
