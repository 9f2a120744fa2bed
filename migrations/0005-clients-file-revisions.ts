import type { Knex } from 'knex';
import type { Migration } from './index';

/**
 * Clients as code, a file's revision: the last `revision:` applied for each mark (a clients
 * file's `name`, else its absolute path) and a digest of the declaration it came with. An apply
 * of an older revision, or of the same revision with another declaration, is refused
 * (identity/managed-client-revisions.ts): in a rolling deploy an instance holding an older copy
 * of the file would otherwise undo a newer one. A mark with no row here never used revisions and
 * applies as before.
 */
export const clientsFileRevisions: Migration = {
  name: '0005-clients-file-revisions',
  async up(knex: Knex) {
    await knex.schema.createTable('clients_file_revisions', (table) => {
      // What clients.managed_by names.
      table.text('mark').primary();
      // bigint: a file may number its revisions by date and time (202607011230).
      table.bigInteger('revision').notNullable();
      // sha-256 (hex) of the declaration: settings and secret references, never a secret.
      table.text('digest').notNullable();
      table.timestamp('applied_at', { useTz: true }).notNullable();
    });
  },
  async down(knex: Knex) {
    await knex.schema.dropTableIfExists('clients_file_revisions');
  },
};
