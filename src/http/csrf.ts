import type { Request } from 'express';
import { csrfSync } from 'csrf-sync';

/**
 * Synchroniser tokens kept in the session. Forms post `_csrf`; scripts may
 * send `x-csrf-token`. Multipart forms are checked by their route after the
 * upload is parsed (see csrfAfterUpload).
 */
const { csrfSynchronisedProtection, generateToken } = csrfSync({
  getTokenFromRequest: (req: Request) =>
    (req.body && typeof req.body._csrf === 'string' ? req.body._csrf : undefined) ??
    (req.headers['x-csrf-token'] as string | undefined),
});

export const csrfProtection = csrfSynchronisedProtection;
export const csrfToken = generateToken;

export function isMultipart(req: Request): boolean {
  return (req.headers['content-type'] ?? '').startsWith('multipart/form-data');
}
