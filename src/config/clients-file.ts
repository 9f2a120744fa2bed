import path from 'node:path';
import { parse, YAMLError } from 'yaml';
import { z } from 'zod';
import { isClientSecretId } from '../identity/client-secret-records';
import { isClientSecretHash, MIN_SECRET_LENGTH } from '../identity/client-secrets';
import type { ManagedClient, ManagedSecret } from '../identity/managed-clients';
import { readBoundedFile } from './bounded-file';
import { declarationDigest } from './clients-file-digest';
import { readSecret } from './secret-files';

// CLIENTS_FILE (README "Clients as code"): clients declared in YAML or JSON, applied by
// identity/managed-clients.ts. This file says what a declaration may hold; what makes a client
// valid (grant rules, scopes, redirect URIs, lifetimes) is createClient's and updateClient's, so
// it is checked there, once, when the file is applied. Secrets are given by reference only.

/** The file cannot be used; the message names the file and the problem, never a secret. */
export class ClientsFileError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'ClientsFileError';
  }
}

// A key that would hold a secret itself: refused with its own message, not as a mere unknown key.
const PLAINTEXT_KEYS = ['secret', 'clientSecret', 'client_secret'];
const PLAINTEXT = 'a plaintext secret is refused: give secretFile (a mounted secret) or secretHash (`portcullis clients hash-secret`)';

function refusePlaintext(value: unknown, ctx: z.RefinementCtx): unknown {
  if (typeof value === 'object' && value !== null) {
    for (const key of PLAINTEXT_KEYS) if (key in value) ctx.addIssue({ code: 'custom', path: [key], message: PLAINTEXT });
  }
  return value;
}

const strings = z.array(z.string());

const secretReference = z.preprocess(
  refusePlaintext,
  z
    .object({
      id: z.string().refine(isClientSecretId, '1-64 characters of A-Z a-z 0-9 . _ ~ -'),
      secretFile: z.string().min(1).optional(),
      secretHash: z.string().refine(isClientSecretHash, 'not a client secret hash (hmac-sha256$salt$digest, from `portcullis clients hash-secret`)').optional(),
      // RFC 3339 with an offset; past it the secret no longer authenticates.
      notAfter: z.iso
        .datetime({ offset: true })
        .transform((text) => new Date(text))
        .nullable()
        .default(null),
    })
    .strict()
    .refine((ref) => (ref.secretFile === undefined) !== (ref.secretHash === undefined), 'give exactly one of secretFile or secretHash')
    .transform(({ id, notAfter, secretFile, secretHash }): SecretReference => (secretFile !== undefined ? { id, notAfter, secretFile } : { id, notAfter, secretHash: secretHash ?? '' })),
);

type SecretReference = { readonly id: string; readonly notAfter: Date | null } & ({ readonly secretFile: string } | { readonly secretHash: string });

const declaredClient = z.preprocess(
  refusePlaintext,
  z
    .object({
      id: z.string(),
      name: z.string().optional(),
      type: z.enum(['confidential', 'public']),
      grantTypes: strings,
      scopes: strings,
      defaultScopes: strings.default([]),
      audiences: strings.default([]),
      corsOrigins: strings.default([]),
      canIntrospect: z.boolean().default(false),
      redirectUris: strings.default([]),
      postLogoutRedirectUris: strings.default([]),
      requireConsent: z.boolean().default(false),
      refreshTokenTtlSec: z.number().int().nullable().default(null),
      refreshIdleTtlSec: z.number().int().nullable().default(null),
      refreshTokenInCookie: z.boolean().default(false),
      // Two during a rotation: the old and the new (README "Clients as code").
      secrets: z.array(secretReference).max(2, 'at most two secrets: the current one and, during a rotation, the next').default([]),
    })
    .strict()
    .superRefine((client, ctx) => {
      if (client.type === 'public' && client.secrets.length > 0) ctx.addIssue({ code: 'custom', path: ['secrets'], message: 'a public client has no secret' });
      if (client.type === 'confidential' && client.secrets.length === 0) ctx.addIssue({ code: 'custom', path: ['secrets'], message: 'a confidential client needs a secret: secretFile or secretHash' });
      const ids = client.secrets.map((secret) => secret.id);
      for (const [index, id] of ids.entries()) if (ids.indexOf(id) !== index) ctx.addIssue({ code: 'custom', path: ['secrets', index, 'id'], message: `secret id "${id}" given twice` });
    }),
);

/** What marks the file's clients (`clients.managed_by`) when the file names itself. */
const MARK = /^[\x21-\x7e]{1,128}$/;

const clientsFileSchema = z
  .object({
    // The mark of the clients this file manages; the same wherever the file is read from (the
    // service's mount, a CI checkout), so prune and release agree on which clients are its own.
    name: z.string().regex(MARK, '1-128 printable ASCII characters, no spaces').optional(),
    // Raised with every change: an apply of a lower revision than the mark's last one is refused
    // (identity/managed-client-revisions.ts), so an instance holding an older copy cannot undo it.
    revision: z.number('a whole number, 1 or more').int('a whole number, 1 or more').min(1, 'a whole number, 1 or more').max(Number.MAX_SAFE_INTEGER, 'too large').optional(),
    clients: z.array(declaredClient),
  })
  .strict()
  .superRefine((file, ctx) => {
    const ids = file.clients.map((client) => client.id);
    for (const [index, id] of ids.entries()) if (ids.indexOf(id) !== index) ctx.addIssue({ code: 'custom', path: ['clients', index, 'id'], message: `client id "${id}" declared twice` });
    // A secret id names one secret of one client (client_secrets.id is the table's key).
    const owners = new Map<string, string>();
    for (const [index, client] of file.clients.entries()) {
      for (const [secretIndex, secret] of client.secrets.entries()) {
        const owner = owners.get(secret.id);
        if (owner !== undefined && owner !== client.id) ctx.addIssue({ code: 'custom', path: ['clients', index, 'secrets', secretIndex, 'id'], message: `secret id "${secret.id}" is also client ${owner}'s: secret ids are unique across clients` });
        owners.set(secret.id, client.id);
      }
    }
  });

type DeclaredClient = z.output<typeof declaredClient>;

/** `clients[2].secrets[0].secretHash`: where in the file a problem is. */
function where(issuePath: readonly PropertyKey[]): string {
  return issuePath.map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`)).join('') || '(file)';
}

const MAX_SHOWN = 10;
/** Thousands of clients fit in far less; a larger file is the wrong file, and is refused before it is parsed. */
const MAX_FILE_BYTES = 1024 * 1024;

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.flatMap((issue) =>
    // Each unknown key with its own path: an operator fixes them one by one.
    issue.code === 'unrecognized_keys' ? issue.keys.map((key) => `${where([...issue.path, key])}: unknown key`) : [`${where(issue.path)}: ${issue.message}`],
  );
  const shown = lines.slice(0, MAX_SHOWN).join('; ');
  return lines.length > MAX_SHOWN ? `${shown}; and ${lines.length - MAX_SHOWN} more` : shown;
}

function lineOf(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `line ${line}, column ${offset - before.lastIndexOf('\n')}`;
}

/** The text as YAML 1.2 (which reads a JSON file as JSON). Errors give a position, never the line itself. */
function parseText(file: string, text: string): unknown {
  try {
    return parse(text, { prettyErrors: false, uniqueKeys: true, maxAliasCount: 100 });
  } catch (error) {
    if (error instanceof YAMLError) throw new ClientsFileError(file, `not valid YAML or JSON at ${lineOf(text, error.pos[0])}: ${error.message}`);
    // The parser's own guards (an alias bomb: "Excessive alias count...") throw plain errors.
    if (error instanceof Error) throw new ClientsFileError(file, `not usable YAML: ${error.message}`);
    throw error;
  }
}

/** The declared clients with their secret references still unread (dry-runs and watches need the paths first). */
export interface ClientsFile {
  readonly file: string;
  /** What marks its clients: the top-level `name`, else the file's absolute path. */
  readonly managedBy: string;
  /** The top-level `revision`, when the file gives one. */
  readonly revision: number | undefined;
  /** sha-256 of the declaration (clients-file-digest.ts): secret references as written, never a secret. */
  readonly digest: string;
  readonly clients: readonly DeclaredClient[];
  /** Every secretFile the declaration names, absolute: watched for changes like the file itself. */
  readonly secretFiles: readonly string[];
}

/** The file's text through the bounded reader, or what is wrong with it. */
export function readClientsText(file: string): { text: string } | { problem: string } {
  return readBoundedFile(file, MAX_FILE_BYTES, 'too large for a clients file');
}

/**
 * Reads and checks the file's shape; a secretFile path is relative to the file's directory.
 * `text`: the file's content when the caller read it already (the watcher reads it until it
 * holds still, and this is what it saw).
 */
export async function readClientsFile(file: string, text?: string): Promise<ClientsFile> {
  const read = text !== undefined ? { text } : readClientsText(file);
  if ('problem' in read) throw new ClientsFileError(file, read.problem);
  const result = clientsFileSchema.safeParse(parseText(file, read.text) ?? {});
  if (!result.success) throw new ClientsFileError(file, describeIssues(result.error.issues));
  const dir = path.dirname(file);
  const clients = result.data.clients.map((client) => ({
    ...client,
    secrets: client.secrets.map((secret) => ('secretFile' in secret ? { ...secret, secretFile: path.resolve(dir, secret.secretFile) } : secret)),
  }));
  const secretFiles = [...new Set(clients.flatMap((client) => client.secrets.flatMap((secret) => ('secretFile' in secret ? [secret.secretFile] : []))))];
  // The digest takes secretFile paths as written (before resolving): the same file read from the
  // service's mount and from a CI checkout is the same declaration.
  return { file, managedBy: result.data.name ?? path.resolve(file), revision: result.data.revision, digest: declarationDigest(result.data.clients), clients, secretFiles };
}

/** Reads every referenced secret: the file's content minus one trailing line break. One unreadable secret refuses the file. */
export function resolveClients(declared: ClientsFile): ManagedClient[] {
  return declared.clients.map(({ secrets, ...client }, index) => ({
    ...client,
    secrets: secrets.map((reference, secretIndex): ManagedSecret => {
      if ('secretHash' in reference) return { id: reference.id, notAfter: reference.notAfter, hash: reference.secretHash };
      const refuse = (problem: string) => new ClientsFileError(declared.file, `clients[${index}].secrets[${secretIndex}].secretFile: "${reference.secretFile}" ${problem}`);
      const read = readSecret(reference.secretFile);
      if ('problem' in read) throw refuse(read.problem);
      if (read.value.length < MIN_SECRET_LENGTH) throw refuse(`is shorter than ${MIN_SECRET_LENGTH} characters: not a client secret`);
      return { id: reference.id, notAfter: reference.notAfter, secret: read.value };
    }),
  }));
}

/** The file, read, checked and with its secrets read: what an apply takes. */
export async function loadClientsFile(file: string): Promise<ManagedClient[]> {
  return resolveClients(await readClientsFile(file));
}
