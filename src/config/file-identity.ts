// Watched files (SIGNING_KEYS_FILE, CLIENTS_FILE and its secret files) count as changed when any
// of these differ, not the modification time alone: a file replaced by one with the same mtime
// (`cp -p`, `rsync -t`, `install -p`, an untarred copy, a Kubernetes secret's symlink swap) is a
// new inode, a new ctime, and usually a new size.

/** The parts of a stat that tell one version of a file from another. */
export interface FileIdentity {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

export function fileChanged(current: FileIdentity, previous: FileIdentity): boolean {
  return current.ino !== previous.ino || current.size !== previous.size || current.mtimeMs !== previous.mtimeMs || current.ctimeMs !== previous.ctimeMs;
}

/** One string per version, for comparing two looks at a file. */
export function fileVersion(stat: FileIdentity): string {
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
}
