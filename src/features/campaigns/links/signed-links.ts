import { signPayload, signaturesMatch } from '../../../auth/signing';

export type LinkPurpose = 'r' | 'u';

export interface LinkClaims {
  purpose: LinkPurpose;
  campaignId: number;
  recipientId: number;
  expiresAt: number;
}

/** Personal re-registration links live 90 days; unsubscribe links a year (RFC 8058 senders must honour them long after sending). */
export const LINK_TTL_SECONDS: Record<LinkPurpose, number> = { r: 90 * 86400, u: 365 * 86400 };

// A key of its own (see auth/signing): a link can never be replayed as a session or another token.
function mac(secret: string, body: string): string {
  return signPayload(secret, 'campaign-links-v1', body).slice(0, 22);
}

/** `<campaign>.<recipient>.<expiry>.<mac>` in base 36: short, URL-safe, verifiable without a database read. */
export function signLink(secret: string, purpose: LinkPurpose, campaignId: number, recipientId: number, now = Date.now()): string {
  const exp = Math.floor(now / 1000) + LINK_TTL_SECONDS[purpose];
  const body = `${campaignId.toString(36)}.${recipientId.toString(36)}.${exp.toString(36)}`;
  return `${body}.${mac(secret, `${purpose}:${body}`)}`;
}

/** The shape of every `/r/` and `/u/` token; anything else is a cut or mangled link (400, src/http/links.ts). */
export const LINK_TOKEN = /^([0-9a-z]{1,13})\.([0-9a-z]{1,13})\.([0-9a-z]{1,13})\.([A-Za-z0-9_-]{22})$/;

/** The link's claims when its signature matches and it has not expired; null otherwise. */
export function verifyLink(secret: string, purpose: LinkPurpose, token: string, now = Date.now()): LinkClaims | null {
  const m = LINK_TOKEN.exec(token);
  if (!m) return null;
  const body = `${m[1]}.${m[2]}.${m[3]}`;
  if (!signaturesMatch(mac(secret, `${purpose}:${body}`), m[4]!)) return null;
  const expiresAt = parseInt(m[3]!, 36);
  if (expiresAt * 1000 < now) return null;
  return { purpose, campaignId: parseInt(m[1]!, 36), recipientId: parseInt(m[2]!, 36), expiresAt };
}
