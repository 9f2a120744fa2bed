import type { Database } from '../db/database';
import { printableMark } from './client-manager';

// Clients as code, a file's `revision` (README "Clients as code"): every instance applies its
// own copy of the file, at start, on SIGHUP and when it changes. In a rolling deploy an instance
// still holding an older copy would undo a newer one (bring back a removed secret, revert
// settings, with prune delete new clients). So, per mark, the last revision applied and a digest
// of its declaration are kept (clients_file_revisions, migration 0005), and checked in the
// apply's transaction, under its lock, before anything changes.

/** What a file says of its revision. */
export interface DeclaredRevision {
  /** The file's `revision`; undefined when it gives none. */
  readonly revision: number | undefined;
  /** sha-256 of its declaration (config/clients-file-digest.ts): never a secret. */
  readonly digest: string;
}

/** The file's revision beside the mark's stored one, and why the apply is refused, if it is. */
export interface RevisionCheck {
  readonly mark: string;
  readonly file: number | null;
  readonly stored: number | null;
  /** Set when the apply is refused: the reason, naming both revisions and the mark. */
  readonly refused?: string;
}

/** The apply is refused for its revision; nothing was changed. */
export class RevisionRefused extends Error {
  constructor(readonly check: RevisionCheck & { readonly refused: string }) {
    super(check.refused);
    this.name = 'RevisionRefused';
  }
}

const REVISIONS = 'clients_file_revisions';

function refusal(rawMark: string, file: DeclaredRevision, stored: { revision: number; digest: string }): string | undefined {
  const mark = printableMark(rawMark);
  if (file.revision === undefined) return `no revision, but revision ${stored.revision} was applied for ${mark}: refused, nothing changed (once a mark's file gives a revision, every later one must)`;
  if (file.revision < stored.revision) return `revision ${file.revision} is older than revision ${stored.revision}, the last applied for ${mark}: refused, nothing changed (an instance with an older copy of the file?)`;
  if (file.revision === stored.revision && file.digest !== stored.digest) {
    return `revision ${file.revision} was applied for ${mark} with another declaration: refused, nothing changed (raise revision with every change of the file)`;
  }
  return undefined;
}

/**
 * The mark's stored revision against the file's: a lower one is refused, the same one with
 * another declaration too (the revision was not raised), and so is a file without one once the
 * mark has one. The same revision with the same declaration applies again (a secret file's
 * content may have changed). Undefined when neither the file nor the mark has a revision: the
 * apply goes on as it always did. Run in the apply's transaction, under its lock.
 */
export async function checkRevision(trx: Database, mark: string, file: DeclaredRevision): Promise<RevisionCheck | undefined> {
  const row = await trx(REVISIONS).where({ mark }).first<{ revision: string | number; digest: string } | undefined>('revision', 'digest');
  // bigint: pg answers a string.
  const stored = row ? { revision: Number(row.revision), digest: row.digest } : undefined;
  if (!stored && file.revision === undefined) return undefined;
  const refused = stored ? refusal(mark, file, stored) : undefined;
  return { mark, file: file.revision ?? null, stored: stored?.revision ?? null, ...(refused ? { refused } : {}) };
}

/** Stores the file's revision as the mark's last (nothing when it gives none). In the apply's transaction. */
export async function recordRevision(trx: Database, mark: string, file: DeclaredRevision, now: Date): Promise<void> {
  if (file.revision === undefined) return;
  await trx(REVISIONS).insert({ mark, revision: file.revision, digest: file.digest, applied_at: now }).onConflict('mark').merge();
}

/**
 * A file may take a client from another mark (README: declaring a client puts it under this
 * file), but not from a mark that applies revisions: an older copy of that file under another
 * name (its `name:` renamed or added since) would otherwise undo the newer one unchecked. The
 * reason when `takenFrom` (client id to its current mark) names such a mark; else undefined.
 */
export async function takeoverRefusal(trx: Database, mark: string, takenFrom: ReadonlyMap<string, string>): Promise<string | undefined> {
  const marks = [...new Set(takenFrom.values())].filter((other) => other !== mark);
  if (marks.length === 0) return undefined;
  const guarded = new Set(await trx(REVISIONS).whereIn('mark', marks).pluck<string[]>('mark'));
  const taken = [...takenFrom].filter(([, other]) => guarded.has(other));
  if (taken.length === 0) return undefined;
  const [id, other] = taken[0]!;
  return `client ${id} is managed by ${JSON.stringify(other)}, which applies revisions: another mark may not take it (an older copy of a renamed file?); refused, nothing changed. Remove it from that file first${taken.length > 1 ? ` (and ${taken.length - 1} more)` : ''}`;
}
