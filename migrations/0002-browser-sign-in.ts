import type { Knex } from 'knex';
import type { Migration } from './index';

const CLIENT_COLUMNS = ['redirect_uris', 'post_logout_redirect_uris', 'require_consent', 'refresh_token_ttl_sec', 'refresh_idle_ttl_sec', 'refresh_token_in_cookie'] as const;

/**
 * Issue 14, sign-in in the browser: what a client registers for the authorization-code flow and
 * RP-initiated logout, its own refresh-token lifetimes, and the consents users give to clients.
 * Existing clients get the defaults: no redirect URIs (so no code flow), no consent page, the
 * service-wide refresh lifetimes, refresh tokens in the response body as before.
 */
export const browserSignIn: Migration = {
  name: '0002-browser-sign-in',
  async up(knex: Knex) {
    await knex.schema.alterTable('clients', (table) => {
      // Stored exactly as registered: RFC 9700 §2.1 compares redirect URIs as exact strings.
      table.specificType('redirect_uris', 'text[]').notNullable().defaultTo('{}');
      table.specificType('post_logout_redirect_uris', 'text[]').notNullable().defaultTo('{}');
      table.boolean('require_consent').notNullable().defaultTo(false);
      // null: the service-wide REFRESH_TOKEN_* lifetimes apply.
      table.integer('refresh_token_ttl_sec').nullable();
      table.integer('refresh_idle_ttl_sec').nullable();
      table.boolean('refresh_token_in_cookie').notNullable().defaultTo(false);
    });

    await knex.schema.createTable('consents', (table) => {
      table.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
      table.text('client_id').notNullable().references('id').inTable('clients').onDelete('CASCADE');
      table.specificType('scopes', 'text[]').notNullable();
      table.timestamp('granted_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      table.primary(['user_id', 'client_id']);
      // Deleting a client cascades here; without this index that would scan every consent.
      table.index(['client_id']);
    });
  },
  async down(knex: Knex) {
    await knex.schema.dropTableIfExists('consents');
    await knex.schema.alterTable('clients', (table) => {
      for (const column of CLIENT_COLUMNS) table.dropColumn(column);
    });
  },
};
