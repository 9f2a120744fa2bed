/**
 * Authorization codes (RFC 6749 §4.1.2): what the authorization endpoint granted, waiting for the
 * client's token request. Stored under SHA-256 of the code only (tokens/authorization-code.ts), so
 * a leaked store yields no usable code. Times are Unix milliseconds from the caller's clock.
 */
export interface AuthorizationCode {
  readonly clientId: string;
  /** RFC 6749 §4.1.3: the token request must name the same redirect_uri, character for character. */
  readonly redirectUri: string;
  /** RFC 7636 S256 code_challenge (base64url SHA-256 of the verifier). */
  readonly codeChallenge: string;
  readonly userId: string;
  readonly username: string;
  readonly scope: readonly string[];
  /** The token audience chosen at the authorization endpoint (RFC 8707 `resource`). */
  readonly audience: string;
  /** The browser session the user signed in with (store/browser-sessions.ts id). */
  readonly browserSessionId: string;
  /** When the user last entered their password in that browser session. */
  readonly authTime: number;
  readonly expiresAt: number;
}

/** What the first exchange of a code issued: a replay of the code revokes exactly these. */
export interface CodeIssue {
  readonly jti: string;
  /** The access token's `exp` (Unix seconds), for its blacklist entry. */
  readonly accessTokenExpiresAt: number;
  readonly familyId?: string | undefined;
}

export type CodeRedemption =
  /** First use: the code is now spent. */
  | { readonly outcome: 'redeemed'; readonly code: AuthorizationCode }
  /** Second or later use: `issued` is what the first use issued (undefined while it is still issuing). */
  | { readonly outcome: 'replayed'; readonly code: AuthorizationCode; readonly issued: CodeIssue | undefined }
  /** Never issued, expired unspent, or spent longer ago than its retention. */
  | { readonly outcome: 'unknown' };

export interface CodeStore {
  /**
   * Keeps the code until `code.expiresAt` (a code already expired is not kept). A hash is saved
   * once: saving a live one again rejects, since it would bring a spent code back.
   */
  saveCode(codeHash: string, code: AuthorizationCode, now: number): Promise<void>;
  /**
   * One atomic step (one Lua call on Redis): the first call for a live code spends it and
   * returns it; every later call returns `replayed` (and marks the code replayed). A spent code
   * is kept `retainMs` from now, so a late replay can still revoke what it issued.
   */
  redeemCode(codeHash: string, retainMs: number, now: number): Promise<CodeRedemption>;
  /**
   * Records what the first use issued, for later replays. Returns 'replayed' when a replay came
   * between the redemption and this call (the caller then revokes what it just issued), else
   * 'recorded'. Also 'replayed' when the code is no longer known (its retention ended first):
   * then nothing vouches that no replay came. Rejects for a code not yet redeemed (a bug).
   */
  recordCodeIssue(codeHash: string, issued: CodeIssue, now: number): Promise<'recorded' | 'replayed'>;
}
