import type { Knex } from 'knex';

/**
 * The outbound send rate as a token bucket: `perMinute` tokens a minute, at
 * most `BURST_SECONDS` worth saved up (at least one), one token per message.
 * The same numbers as a campaign's bucket (campaigns keep theirs in the
 * campaign row; `grantTokens` is the arithmetic both can share).
 */
export const BURST_SECONDS = 2;

export interface Grant {
  /** Messages that may go now. */
  granted: number;
  /** Tokens left in the bucket after them. */
  tokens: number;
  /** When nothing was granted: milliseconds until the next token. */
  waitMs: number;
}

/** Refills a bucket that held `tokens` `elapsedSeconds` ago and takes up to `want` tokens. `perMinute` 0: no limit. */
export function grantTokens(tokens: number, elapsedSeconds: number, perMinute: number, want: number): Grant {
  if (perMinute <= 0) return { granted: want, tokens: 0, waitMs: 0 };
  const perSecond = perMinute / 60;
  const cap = Math.max(1, perSecond * BURST_SECONDS);
  const now = Math.min(cap, tokens + Math.max(0, elapsedSeconds) * perSecond);
  const granted = Math.min(want, Math.floor(now));
  if (granted <= 0) return { granted: 0, tokens: now, waitMs: Math.ceil(((1 - now) / perSecond) * 1000) };
  return { granted, tokens: now - granted, waitMs: 0 };
}

const BUCKETS = 'portal.mail_rate_buckets';

/**
 * Takes up to `want` tokens from the named bucket shared by every instance
 * (the row is locked until the caller's transaction ends, so two senders
 * never spend the same token). A new bucket starts full.
 */
export async function takeSendTokens(trx: Knex.Transaction, bucket: string, perMinute: number, want: number): Promise<Grant> {
  if (perMinute <= 0) return grantTokens(0, 0, 0, want);
  await trx.raw(`INSERT INTO ${BUCKETS} (name, tokens, at) VALUES (?, ?, clock_timestamp()) ON CONFLICT (name) DO NOTHING`, [bucket, Math.max(1, (perMinute / 60) * BURST_SECONDS)]);
  const row = await trx(BUCKETS)
    .where({ name: bucket })
    .forUpdate()
    .first<{ tokens: number; elapsed: number }>('tokens', trx.raw('extract(epoch FROM clock_timestamp() - at)::float8 AS elapsed'));
  const grant = grantTokens(Number(row!.tokens), Number(row!.elapsed), perMinute, want);
  await trx(BUCKETS).where({ name: bucket }).update({ tokens: grant.tokens, at: trx.raw('clock_timestamp()') });
  return grant;
}
