import type { Request, RequestHandler } from 'express';
import { csrfSync } from 'csrf-sync';
import { HttpError } from './errors';
import { secretsEqual } from '../auth/constant-time';

/** A state-changing request without a valid synchroniser token: always 403, whatever the route. */
export class CsrfError extends HttpError {
  constructor() {
    super(403, 'errors.csrf');
  }
}

/**
 * Synchroniser tokens kept in the session. Forms post `_csrf`; scripts may
 * send `x-csrf-token`.
 */
const { csrfSynchronisedProtection, generateToken } = csrfSync({
  getTokenFromRequest: (req: Request) =>
    (req.body && typeof req.body._csrf === 'string' ? req.body._csrf : undefined) ??
    (req.headers['x-csrf-token'] as string | undefined),
});

export const csrfToken = generateToken;

export function isMultipart(req: Request): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/form-data');
}

// POST paths whose multipart body is parsed by the route itself, which then
// calls verifyCsrfToken with the form's `_csrf` field. Exact paths only.
const deferred = new Set<string>();

/**
 * Declares that a POST route reads its own multipart body and checks the
 * token itself once the body is parsed (verifyCsrfToken). Returns the path,
 * so it wraps the route's path where the route is declared. Every other
 * multipart POST is refused by the global check (its body is not parsed
 * there, so it carries no token).
 */
export function deferCsrfUntilParsed(path: string): string {
  deferred.add(path);
  return path;
}

/** True for a multipart POST to a route that declared it parses its own body (deferCsrfUntilParsed). */
export function isDeclaredUpload(req: Request): boolean {
  return req.method === 'POST' && isMultipart(req) && deferred.has(req.path);
}

const sessionToken = (req: Request) => (req.session as unknown as { csrfToken?: string } | undefined)?.csrfToken;

/**
 * The global check, mounted after sessions: every unsafe method needs the
 * token, except a declared upload, and that only when the session holds a
 * token its body could match (a client without one is refused at once).
 */
export const csrfProtection: RequestHandler = (req, res, next) => {
  if (isDeclaredUpload(req) && sessionToken(req)) return next();
  csrfSynchronisedProtection(req, res, (err?: unknown) => next(err === undefined ? undefined : new CsrfError()));
};

/** For routes that parsed their own body: the session's token, compared in constant time. */
export function verifyCsrfToken(req: Request, token: string | undefined): void {
  const expected = sessionToken(req);
  if (!expected || !token || !secretsEqual(expected, token)) {
    throw new CsrfError();
  }
}
