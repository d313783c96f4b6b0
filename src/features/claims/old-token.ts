import crypto from 'node:crypto';

export interface OldTokenClaims {
  user_id: number;
  token_type: string;
  issued_at: Date;
  jti: string | null;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

function decodeJson(part: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Verifies a sign-in token the old site issued (djangorestframework-simplejwt:
 * HS256 with Django's SECRET_KEY, claim user_id). Expiry is ignored on
 * purpose (RECOVERY.md §2); a token issued after the incident is refused, since
 * the same key may have signed tokens for the new accounts that reuse the ids.
 * Returns null for anything that is not such a token.
 */
export function verifyOldToken(token: string, secretKey: string, incidentAt: Date): OldTokenClaims | null {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) return null;
  const [h, p, sig] = parts as [string, string, string];
  const header = decodeJson(h);
  if (!header || header.alg !== 'HS256') return null;
  const expected = crypto.createHmac('sha256', secretKey).update(`${h}.${p}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return null;
  const payload = decodeJson(p);
  if (!payload) return null;
  const id = typeof payload.user_id === 'number' ? payload.user_id : typeof payload.user_id === 'string' && /^\d+$/.test(payload.user_id) ? Number(payload.user_id) : NaN;
  const type = String(payload.token_type ?? '');
  const iat = typeof payload.iat === 'number' ? new Date(payload.iat * 1000) : null;
  if (!Number.isSafeInteger(id) || id <= 0 || !['access', 'refresh'].includes(type) || !iat || iat >= incidentAt) return null;
  return { user_id: id, token_type: type, issued_at: iat, jti: typeof payload.jti === 'string' ? payload.jti.slice(0, 64) : null };
}
