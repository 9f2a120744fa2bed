import type { Knex } from 'knex';
import type { Migration } from './index';

// The seed design's role ladder: each role inherits the scopes of the one below it (its parent).
const DEFAULT_ROLES: ReadonlyArray<{ name: string; parent: string | null; description: string; scopes: string[] }> = [
  { name: 'user', parent: null, description: 'a signed-in user', scopes: ['items:read', 'users:read:own'] },
  { name: 'moderator', parent: 'user', description: 'can edit content and read users', scopes: ['items:write', 'users:read', 'users:write:own'] },
  { name: 'admin', parent: 'moderator', description: 'manages items and users', scopes: ['items:delete', 'users:write', 'users:delete'] },
  { name: 'superuser', parent: 'admin', description: 'everything', scopes: ['admin', '*'] },
];

export const identity: Migration = {
  name: '0001-identity',
  async up(knex: Knex) {
    await knex.schema.createTable('users', (table) => {
      table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
      // As entered (after NFKC), for display; uniqueness is on the case-folded form below.
      table.text('username').notNullable();
      table.text('username_key').notNullable().unique();
      table.text('email');
      table.text('full_name');
      table.text('password_hash').notNullable();
      table.boolean('disabled').notNullable().defaultTo(false);
      table.timestamp('password_changed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      table.timestamps(true, true);
    });

    await knex.schema.createTable('roles', (table) => {
      table.text('name').primary();
      table.text('description');
      table.text('parent').references('name').inTable('roles').onDelete('SET NULL');
      table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    });
    await knex.schema.createTable('role_scopes', (table) => {
      table.text('role').notNullable().references('name').inTable('roles').onDelete('CASCADE');
      table.text('scope').notNullable();
      table.primary(['role', 'scope']);
    });
    await knex.schema.createTable('user_roles', (table) => {
      table.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
      table.text('role').notNullable().references('name').inTable('roles').onDelete('CASCADE');
      table.primary(['user_id', 'role']);
    });
    await knex.schema.createTable('user_scopes', (table) => {
      table.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
      table.text('scope').notNullable();
      table.primary(['user_id', 'scope']);
    });

    await knex.schema.createTable('clients', (table) => {
      table.text('id').primary();
      table.text('name').notNullable();
      table.text('type').notNullable();
      table.text('secret_hash');
      table.specificType('grant_types', 'text[]').notNullable().defaultTo('{}');
      table.specificType('scopes', 'text[]').notNullable().defaultTo('{}');
      table.specificType('default_scopes', 'text[]').notNullable().defaultTo('{}');
      table.specificType('audiences', 'text[]').notNullable().defaultTo('{}');
      table.specificType('cors_origins', 'text[]').notNullable().defaultTo('{}');
      table.boolean('can_introspect').notNullable().defaultTo(false);
      table.timestamp('secret_rotated_at', { useTz: true });
      table.timestamps(true, true);
    });
    // A confidential client always has a secret; a public one never does (RFC 6749 §2.1).
    await knex.raw(`alter table clients add constraint clients_type_check check (
      (type = 'confidential' and secret_hash is not null) or (type = 'public' and secret_hash is null))`);

    for (const role of DEFAULT_ROLES) {
      await knex('roles').insert({ name: role.name, parent: role.parent, description: role.description });
      await knex('role_scopes').insert(role.scopes.map((scope) => ({ role: role.name, scope })));
    }
  },
  async down(knex: Knex) {
    for (const table of ['clients', 'user_scopes', 'user_roles', 'role_scopes', 'roles', 'users']) {
      await knex.schema.dropTableIfExists(table);
    }
  },
};
