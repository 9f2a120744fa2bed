import type { Deps } from '../deps';
import { createClient, deleteClient, rotateClientSecret, updateClient, type Client, type ClientChanges, type NewClient } from '../identity/clients';
import { IdentityError } from '../identity/errors';
import { hasScope } from '../identity/scopes';
import { audit, type Actor } from './audit';

type ClientDeps = Pick<Deps, 'db' | 'clock' | 'log'>;

// A client's allowed scopes are what it can obtain (for itself, with client_credentials): an
// admin may allow only scopes their own token holds, or clients:write would lead to admin.
function checkGrantable(actor: Actor, scopes: readonly string[] | undefined): void {
  const refused = (scopes ?? []).filter((scope) => !hasScope(actor.scopes, scope));
  if (refused.length > 0) throw new IdentityError('forbidden_grant', `cannot allow scopes you do not hold: ${refused.join(' ')}`);
}

/** Creates a client; a confidential one gets a generated secret, returned here once. */
export async function createClientAs(deps: ClientDeps, actor: Actor, input: Omit<NewClient, 'secret'>): Promise<{ client: Client; secret?: string }> {
  checkGrantable(actor, input.scopes);
  const created = await createClient(deps.db, input, new Date(deps.clock.now()));
  const { client } = created;
  audit(deps.log, 'admin.client_created', actor, client.id, { type: client.type, grantTypes: client.grantTypes, scopes: client.scopes, canIntrospect: client.canIntrospect });
  return created;
}

export async function updateClientAs(deps: ClientDeps, actor: Actor, id: string, changes: ClientChanges): Promise<Client | undefined> {
  checkGrantable(actor, changes.scopes);
  const client = await updateClient(deps.db, id, changes, new Date(deps.clock.now()));
  if (client) audit(deps.log, 'admin.client_updated', actor, id, changes);
  return client;
}

export async function rotateSecretAs(deps: ClientDeps, actor: Actor, id: string): Promise<string> {
  const secret = await rotateClientSecret(deps.db, id, new Date(deps.clock.now()));
  audit(deps.log, 'admin.client_secret_rotated', actor, id, { secret: 'rotated' });
  return secret;
}

export async function deleteClientAs(deps: ClientDeps, actor: Actor, id: string): Promise<boolean> {
  const deleted = await deleteClient(deps.db, id);
  if (deleted) audit(deps.log, 'admin.client_deleted', actor, id);
  return deleted;
}
