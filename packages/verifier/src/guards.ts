import { requiredScopes, type Requirement } from './request-verifier.js';

/**
 * The three guards every adapter offers, in its framework's own handler type. `H` guards a route
 * that needs a caller; `O` (the same unless the framework hands the result back) an optional one.
 */
export interface Guards<H, O = H> {
  /** A valid token is required. */
  authenticate(): H;
  /** A valid token carrying every one of `scopes` (wildcards and `admin` count, as on the server). */
  requireScopes(...scopes: string[]): H;
  /** No token: the request goes on anonymous. A token that is sent must be valid. */
  optional(): O;
}

/** Scopes are checked here, when the route is declared, so a typo fails at start-up. */
export function guards<H, O = H>(required: (requirement: Requirement) => H, optional: (requirement: Requirement) => O): Guards<H, O> {
  return {
    authenticate: () => required({}),
    requireScopes: (...scopes) => {
      if (scopes.length === 0) throw new TypeError('requireScopes() needs at least one scope (use authenticate() for none)');
      return required({ scopes: requiredScopes(scopes) });
    },
    optional: () => optional({ optional: true }),
  };
}
