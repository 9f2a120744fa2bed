import type { Knex } from 'knex';
import { identity } from './0001-identity';
import { browserSignIn } from './0002-browser-sign-in';
import { clientSecrets } from './0003-client-secrets';
import { managedClients } from './0004-managed-clients';
import { clientsFileRevisions } from './0005-clients-file-revisions';

export interface Migration {
  readonly name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Every migration, in order. Listed explicitly (not read from a directory) so that the same
 *  list runs from TypeScript under test and from dist/ in production. Append; never reorder. */
export const migrations: readonly Migration[] = [identity, browserSignIn, clientSecrets, managedClients, clientsFileRevisions];
