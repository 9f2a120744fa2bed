import { ConfigError } from './config';
import { envSchema } from './schema';

// `portcullis keys rotate` runs from a cron job or a CI step that holds the key file and nothing
// else of the deployment: it reads the four settings the key schedule depends on, validated as
// the service validates them, and none of the database, Redis or issuer settings that
// production otherwise requires.

const keyScheduleSchema = envSchema.pick({ ACCESS_TOKEN_TTL: true, JWKS_MAX_AGE: true, ALLOW_HS256: true, SIGNING_KEYS_FILE: true });

export interface KeyScheduleConfig {
  readonly accessTokenTtlSec: number;
  readonly jwksMaxAgeSec: number;
  readonly allowHs256: boolean;
  readonly signingKeysFile: string | undefined;
  /** The settings left to their defaults: the service may run with other values (a warning). */
  readonly defaulted: readonly string[];
}

export function loadKeyScheduleConfig(env: Readonly<Record<string, string | undefined>>): KeyScheduleConfig {
  const result = keyScheduleSchema.safeParse(env);
  if (!result.success) throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  const parsed = result.data;
  return {
    accessTokenTtlSec: parsed.ACCESS_TOKEN_TTL,
    jwksMaxAgeSec: parsed.JWKS_MAX_AGE,
    allowHs256: parsed.ALLOW_HS256 ?? false,
    signingKeysFile: parsed.SIGNING_KEYS_FILE,
    defaulted: (['ACCESS_TOKEN_TTL', 'JWKS_MAX_AGE'] as const).filter((name) => env[name] === undefined || env[name] === ''),
  };
}
