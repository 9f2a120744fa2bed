import { Command } from 'commander';
import { createClient, listClients, rotateClientSecret, type Client, type ClientType } from '../identity/clients';
import { parseScope } from '../identity/scopes';
import { CliError, emit, list, withDeps } from './context';

const describe = (client: Client): string =>
  `${client.id}\t${client.type}\tgrants=${client.grantTypes.join(',')}\tscopes=${client.scopes.join(' ') || '-'}${client.canIntrospect ? '\tintrospect' : ''}`;

function scopes(text: string | undefined, flag: string): string[] {
  if (text === undefined) return [];
  const parsed = parseScope(text);
  if (!parsed) throw new CliError(`${flag}: not a valid scope list: ${text}`);
  return parsed;
}

export function clientCommand(): Command {
  const client = new Command('client').description('manage OAuth clients');

  client
    .command('create')
    .description('register a client; a generated secret is printed once')
    .requiredOption('--id <id>', 'client_id')
    .requiredOption('--type <type>', 'confidential or public')
    .requiredOption('--grants <grants>', 'grant types, comma-separated: password, refresh_token, client_credentials')
    .requiredOption('--scopes <scopes>', 'allowed scopes, space-separated')
    .option('--name <name>', 'display name')
    .option('--secret <secret>', 'use this secret (at least 32 characters) instead of generating one')
    .option('--default-scopes <scopes>', 'scopes granted when a request names none')
    .option('--audiences <audiences>', 'allowed audiences (RFC 8707 resource values), comma-separated')
    .option('--origins <origins>', 'allowed CORS origins, comma-separated')
    .option('--introspect', 'may call the introspection endpoint')
    .option('--json', 'machine-readable output')
    .action(async (options: { id: string; type: string; grants: string; scopes: string; name?: string; secret?: string; defaultScopes?: string; audiences?: string; origins?: string; introspect?: boolean; json?: boolean }) => {
      const input = {
        id: options.id,
        name: options.name,
        type: options.type as ClientType,
        secret: options.secret,
        grantTypes: list(options.grants),
        scopes: scopes(options.scopes, '--scopes'),
        defaultScopes: scopes(options.defaultScopes, '--default-scopes'),
        audiences: list(options.audiences ?? ''),
        corsOrigins: list(options.origins ?? ''),
        canIntrospect: options.introspect ?? false,
      };
      const { client: created, secret } = await withDeps((deps) => createClient(deps.db, input, new Date(deps.clock.now())));
      emit(options.json, { ...created, ...(secret ? { client_secret: secret } : {}) }, () => [
        `created client ${describe(created)}`,
        ...(secret ? [`client_secret: ${secret}`, '(shown once: store it now)'] : []),
      ]);
    });

  client
    .command('list')
    .description('list clients')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const clients = await withDeps((deps) => listClients(deps.db));
      emit(options.json, clients, () => (clients.length ? clients.map(describe) : ['(no clients)']));
    });

  client
    .command('rotate-secret <id>')
    .description('replace a confidential client\'s secret; the old one stops working at once')
    .option('--json', 'machine-readable output')
    .action(async (id: string, options: { json?: boolean }) => {
      const secret = await withDeps((deps) => rotateClientSecret(deps.db, id, new Date(deps.clock.now())));
      emit(options.json, { id, client_secret: secret }, () => [`client_secret: ${secret}`, '(shown once: store it now)']);
    });

  return client;
}
