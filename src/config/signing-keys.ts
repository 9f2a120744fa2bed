import { chmodSync, existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { generateJwk } from '../tokens/generate';
import { parseKeySet, type KeySet } from '../tokens/keyring';
import type { Config } from './config';

export interface LoadedKeys {
  readonly keys: KeySet;
  /** Where they came from, for logs: never the keys themselves. */
  readonly source: 'SIGNING_KEYS' | 'SIGNING_KEYS_FILE' | 'generated';
  /** Set when a development key was generated on this start. */
  readonly generatedAt?: string;
}

export function embeddedKeyPath(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, 'signing-keys.json');
}

/**
 * Reads the configured key set. Outside production, with none configured, one ES256 key is
 * generated once and kept under DATA_DIR (mode 0600) so tokens survive restarts. Throws
 * KeySetError on a bad set; the caller decides whether that is fatal (start) or not (reload).
 */
export function loadSigningKeys(config: Pick<Config, 'signingKeys' | 'signingKeysFile' | 'production' | 'dataDir' | 'allowHs256'>): LoadedKeys {
  const options = { allowHs256: config.allowHs256 };
  if (config.signingKeys) return { keys: parseKeySet(config.signingKeys, options), source: 'SIGNING_KEYS' };
  if (config.signingKeysFile) return { keys: parseKeySet(readFileSync(config.signingKeysFile, 'utf8'), options), source: 'SIGNING_KEYS_FILE' };
  if (config.production) throw new Error('no signing keys configured');

  const file = embeddedKeyPath(config);
  if (existsSync(file)) return { keys: parseKeySet(readFileSync(file, 'utf8'), options), source: 'generated' };
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const text = `${JSON.stringify({ keys: [generateJwk('ES256', undefined, 'active')] }, null, 2)}\n`;
  writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { keys: parseKeySet(text, options), source: 'generated', generatedAt: file };
}
