import { unwatchFile, watchFile } from 'node:fs';
import type { Logger } from '../logging/logger';
import type { Keyring } from '../tokens/keyring';
import type { Config } from './config';
import { loadSigningKeys } from './signing-keys';

/**
 * Re-reads the configured key set and puts it in force. An invalid set is refused with a log
 * line and the set in force stays: a bad deploy of the key file must not stop token issuance.
 * In-flight requests keep the set they started with (the keyring swaps whole sets).
 */
export function reloadSigningKeys(config: Config, keyring: Keyring, log: Logger): boolean {
  try {
    const { keys, source } = loadSigningKeys(config);
    keyring.replace(keys);
    log.info({ event: 'keys.reloaded', source, active: keys.active.kid, kids: [...keys.byKid.keys()] }, 'signing keys reloaded');
    return true;
  } catch (error) {
    log.error({ event: 'keys.reload_failed', reason: (error as Error).message, active: keyring.current.active.kid }, 'new signing keys refused; the previous set stays in force');
    return false;
  }
}

/** Reloads on SIGHUP and, with SIGNING_KEYS_FILE, when the file changes. Returns a stopper. */
export function watchSigningKeys(config: Config, keyring: Keyring, log: Logger): () => void {
  const onHangup = (): void => {
    reloadSigningKeys(config, keyring, log);
  };
  process.on('SIGHUP', onHangup);
  const file = config.signingKeysFile;
  // Polling (not fs.watch) follows the atomic renames and symlink swaps that Kubernetes secret
  // volumes and deploy tools use.
  const onChange = (current: { mtimeMs: number }, previous: { mtimeMs: number }): void => {
    if (current.mtimeMs !== previous.mtimeMs) reloadSigningKeys(config, keyring, log);
  };
  if (file) watchFile(file, { interval: 1000, persistent: false }, onChange);
  return () => {
    process.off('SIGHUP', onHangup);
    if (file) unwatchFile(file, onChange);
  };
}
