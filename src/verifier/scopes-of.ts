/** A space-delimited `scope` claim (RFC 9068 §2.2.3, RFC 7662 §2.2) as a list. */
export function scopesOf(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(' ').filter((s) => s !== '') : [];
}
