// Durations in config are whole seconds ("900") or a number with a unit ("15m", "7d").
const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };
const DURATION = /^(\d{1,9})\s*([smhd]?)$/;

/** Parses a duration into whole seconds; returns undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  return Number(amount) * (UNIT_SECONDS[unit || 's'] ?? 1);
}
