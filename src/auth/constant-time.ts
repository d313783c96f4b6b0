import crypto from 'node:crypto';

const digest = (v: string | Buffer) => crypto.createHash('sha256').update(v).digest();

/**
 * The one constant-time comparison for secrets (tokens, signatures, hashes):
 * both sides are hashed first, so neither their length nor where they first
 * differ can be learnt from the time it takes.
 */
export function secretsEqual(a: string | Buffer, b: string | Buffer): boolean {
  return crypto.timingSafeEqual(digest(a), digest(b));
}
