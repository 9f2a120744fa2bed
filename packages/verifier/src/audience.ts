/** RFC 7519 §4.1.3 / RFC 7662 §2.2: `aud` is one string or an array of them, compared exactly. */
export function audienceIncludes(aud: unknown, audience: string): boolean {
  return aud === audience || (Array.isArray(aud) && aud.includes(audience));
}
