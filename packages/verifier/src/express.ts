// @portcullis/verifier/express — Express middleware; the caller is on `req.auth`.
//
//   const auth = createVerifier({ mode: 'jwks', issuer: 'https://auth.example.com', audience: 'https://api.example.com' });
//   app.get('/items', auth.requireScopes('items:read'), (req, res) => res.json({ sub: req.auth?.sub }));
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequestVerifier, type RequestVerifier, type VerifierOptions } from './core.js';
import { guards, type Guards } from './guards.js';
import { sendRefusal } from './node.js';
import type { Requirement } from './request-verifier.js';
import type { AuthInfo } from './types.js';

export * from './core.js';

// Express's own Request type, where @types/express is installed, learns `auth`. The handlers
// below are typed with node:http's types, which Express's extend, so that this package needs
// neither express nor @types/express to be installed.
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      auth?: AuthInfo;
    }
  }
}

export type ExpressHandler = (req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse, next: (error?: unknown) => void) => void;
export type ExpressGuards = Guards<ExpressHandler>;

/** A refusal is answered here; anything else goes on with `next()` (and `req.auth` when a token came). */
export function expressGuards(verifier: RequestVerifier): ExpressGuards {
  const handler =
    (requirement: Requirement): ExpressHandler =>
    (req, res, next) => {
      verifier.verify(req, requirement).then((result) => {
        if (!result.ok) return sendRefusal(res, result);
        if (result.auth) req.auth = result.auth;
        next();
      }, next);
    };
  return guards(handler, handler);
}

export interface ExpressVerifier extends ExpressGuards, RequestVerifier {}

export function createVerifier(options: VerifierOptions): ExpressVerifier {
  const requests = createRequestVerifier(options);
  return { ...expressGuards(requests), ...requests };
}
