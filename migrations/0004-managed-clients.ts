import type { Knex } from 'knex';
import type { Migration } from './index';

/**
 * Issue 15, clients as code: a client declared in CLIENTS_FILE (or applied with `portcullis
 * clients apply`) names that file here. The admin API and the CLI refuse to change such a client
 * (the next apply would undo the change); CLIENTS_FILE_PRUNE removes only clients marked so.
 * Existing clients are hand-made: null.
 */
export const managedClients: Migration = {
  name: '0004-managed-clients',
  async up(knex: Knex) {
    await knex.schema.alterTable('clients', (table) => {
      table.text('managed_by').nullable();
    });
  },
  async down(knex: Knex) {
    await knex.schema.alterTable('clients', (table) => {
      table.dropColumn('managed_by');
    });
  },
};
