import crypto from 'node:crypto';
import type { Request } from 'express';
import { HttpError } from '../../http/errors';

/**
 * The session's synchroniser token against the one a self-parsed multipart
 * form carried, in constant time (both sides hashed to one length first).
 */
export function verifyToken(req: Request, token: string | undefined): void {
  const expected = (req.session as unknown as { csrfToken?: string } | undefined)?.csrfToken;
  const digest = (s: string) => crypto.createHash('sha256').update(s).digest();
  if (!expected || !token || !crypto.timingSafeEqual(digest(expected), digest(token))) throw new HttpError(403, 'errors.csrf');
}
