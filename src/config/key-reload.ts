import { unwatchFile, watchFile } from 'node:fs';
import type { KeyReloadTrigger } from '../events/catalogue';
import type { EventHub } from '../events/hub';
import type { Keyring } from '../tokens/keyring';
import type { Config } from './config';
import { loadSigningKeys } from './signing-keys';
import { fileChanged, type FileIdentity } from './file-identity';

/**
 * Re-reads the configured key set and puts it in force. An invalid set is refused with an event
 * (keys.reload_failed) and the set in force stays: a bad deploy of the key file must not stop token issuance.
 * In-flight requests keep the set they started with (the keyring swaps whole sets).
 */
export function reloadSigningKeys(config: Config, keyring: Keyring, events: EventHub, trigger: KeyReloadTrigger = 'sighup'): boolean {
  // The audit trail's actor: the service itself, and what made it act.
  const actor = `service:${trigger}`;
  try {
    const { keys, source } = loadSigningKeys(config);
    keyring.replace(keys);
    events.emit('keys.reloaded', { actor, trigger, source, active: keys.active.kid, kids: [...keys.byKid.keys()] });
    return true;
  } catch (error) {
    events.emit('keys.reload_failed', { actor, trigger, reason: (error as Error).message, active: keyring.current.active.kid });
    return false;
  }
}

/** Reloads on SIGHUP and, with SIGNING_KEYS_FILE, when the file changes. Returns a stopper. */
export function watchSigningKeys(config: Config, keyring: Keyring, events: EventHub): () => void {
  const onHangup = (): void => {
    reloadSigningKeys(config, keyring, events, 'sighup');
  };
  process.on('SIGHUP', onHangup);
  const file = config.signingKeysFile;
  // Polling (not fs.watch) follows the atomic renames and symlink swaps that Kubernetes secret
  // volumes and deploy tools use.
  const onChange = (current: FileIdentity, previous: FileIdentity): void => {
    if (fileChanged(current, previous)) reloadSigningKeys(config, keyring, events, 'keys_file');
  };
  if (file) watchFile(file, { interval: 1000, persistent: false }, onChange);
  return () => {
    process.off('SIGHUP', onHangup);
    if (file) unwatchFile(file, onChange);
  };
}
