import crypto from 'node:crypto';
import { secretsEqual } from './constant-time';

const keys = new Map<string, Buffer>();

/**
 * A key of its own for each use of SESSION_SECRET (campaign links, download
 * links, ...), derived with HKDF, so a signature made for one purpose can
 * never be replayed as another or as a session cookie.
 */
function derivedKey(secret: string, purpose: string): Buffer {
  const id = `${purpose}\u0000${secret}`;
  let key = keys.get(id);
  if (!key) {
    key = Buffer.from(crypto.hkdfSync('sha256', secret, 'toybox-portal', purpose, 32));
    keys.set(id, key);
  }
  return key;
}

/** HMAC-SHA256 of `payload` under the purpose's key, base64url. */
export function signPayload(secret: string, purpose: string, payload: string): string {
  return crypto.createHmac('sha256', derivedKey(secret, purpose)).update(payload).digest('base64url');
}

/** Constant-time comparison of a presented signature with the expected one. */
export function signaturesMatch(expected: string, given: string): boolean {
  return secretsEqual(expected, given);
}
