import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export interface TokenRow {
  id: number;
  token_hash: Buffer;
  created_at: Date;
  expires_at: Date;
  failed_attempts: number;
  spent_at: Date | null;
  /** Computed by the database clock, so every instance agrees. */
  expired: boolean;
}

const TOKEN_COLUMNS = 'id, token_hash, created_at, expires_at, failed_attempts, spent_at, expires_at <= now() AS expired';

export async function insertToken(trx: Db, tokenHash: Buffer, ttlMinutes: number): Promise<TokenRow> {
  const { rows } = await trx.raw<{ rows: TokenRow[] }>(
    `INSERT INTO portal.bootstrap_tokens (token_hash, expires_at) VALUES (?, now() + make_interval(mins => ?)) RETURNING ${TOKEN_COLUMNS}`,
    [tokenHash, ttlMinutes],
  );
  return rows[0]!;
}

/** The newest token not yet spent (used, burnt or superseded); there is at most one. */
export async function findLiveToken(db: Db): Promise<TokenRow | undefined> {
  const { rows } = await db.raw<{ rows: TokenRow[] }>(
    `SELECT ${TOKEN_COLUMNS} FROM portal.bootstrap_tokens WHERE spent_at IS NULL ORDER BY id DESC LIMIT 1`,
  );
  return rows[0];
}

/** Locks one token row until the transaction ends: concurrent setups queue here and see each other's spend. */
export async function lockToken(trx: Knex.Transaction, id: number): Promise<TokenRow | undefined> {
  const { rows } = await trx.raw<{ rows: TokenRow[] }>(`SELECT ${TOKEN_COLUMNS} FROM portal.bootstrap_tokens WHERE id = ? FOR UPDATE`, [id]);
  return rows[0];
}

/** Counts a wrong try atomically; null when the token was spent meanwhile. */
export async function countFailedAttempt(db: Db, id: number): Promise<number | null> {
  const { rows } = await db.raw<{ rows: Array<{ failed_attempts: number }> }>(
    'UPDATE portal.bootstrap_tokens SET failed_attempts = failed_attempts + 1 WHERE id = ? AND spent_at IS NULL RETURNING failed_attempts',
    [id],
  );
  return rows[0]?.failed_attempts ?? null;
}

/** Spends a token only if it is still live: the conditional update is what makes a token single-use. */
export async function spendToken(db: Db, id: number, reason: 'used' | 'burnt' | 'superseded'): Promise<boolean> {
  const n = await db('portal.bootstrap_tokens').where({ id }).whereNull('spent_at').update({ spent_at: db.fn.now(), spent_reason: reason });
  return n === 1;
}

/** Retires every live token (a superuser now exists, or a new token replaces it); returns their ids. */
export async function spendLiveTokens(db: Db, reason: 'superseded'): Promise<number[]> {
  const rows = await db('portal.bootstrap_tokens').whereNull('spent_at').update({ spent_at: db.fn.now(), spent_reason: reason }, ['id']);
  return rows.map((r: { id: number }) => Number(r.id));
}
