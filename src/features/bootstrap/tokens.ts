import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { AppContext } from '../../app-context';
import { printSetupBox } from './setup-box';
import { logger } from '../../logger';
import { recordAudit } from '../../audit/service';
import { hasActiveSuperuser } from '../../toybox/users';
import { insertToken, findLiveToken, countFailedAttempt, spendToken, spendLiveTokens, type TokenRow } from './repo';
import { writeTokenFile, readTokenFile, removeTokenFile, tokenFilePath } from './token-file';

/** A token survives this many wrong tries; the next wrong one burns it and a new one is issued. */
export const MAX_WRONG_TRIES = 10;
export const SYSTEM_ACTOR = 'system:bootstrap';

export interface Log {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

type Ctx = Pick<AppContext, 'knex' | 'config'>;

/** 256 bits from the OS, URL-safe so it can be pasted anywhere. */
export function generateToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export function hashToken(token: string): Buffer {
  return crypto.createHash('sha256').update(token, 'utf8').digest();
}

/** Hashes first, so the comparison is constant-time and of fixed length whatever was typed. */
export function tokenMatches(token: string, storedHash: Buffer): boolean {
  const given = hashToken(token);
  return storedHash.length === given.length && crypto.timingSafeEqual(given, storedHash);
}

export function setupUrl(ctx: Ctx): string {
  return `${ctx.config.PUBLIC_URL}/setup`;
}

/**
 * Issues a new token (retiring any live one) in one transaction, then hands
 * it to the operator through the two channels they have on the host: the
 * 0600 file in DATA_DIR and one log line. The log line still carries the token
 * when the file cannot be written (a read-only disk started the incident).
 */
async function issueToken(ctx: Ctx, log: Log, reason: string, before?: (trx: Knex.Transaction) => Promise<boolean>): Promise<TokenRow | null> {
  const token = generateToken();
  const row = await ctx.knex.transaction(async (trx) => {
    if (before && !(await before(trx))) return null;
    await spendLiveTokens(trx, 'superseded');
    const inserted = await insertToken(trx, hashToken(token), ctx.config.BOOTSTRAP_TOKEN_TTL_MINUTES);
    await recordAudit(trx, SYSTEM_ACTOR, 'bootstrap.token_issued', `token:${inserted.id}`, { reason, expires_at: inserted.expires_at.toISOString() });
    return inserted;
  });
  if (!row) return null;
  const file = tokenFilePath(ctx.config.DATA_DIR);
  try {
    await writeTokenFile(ctx.config.DATA_DIR, token);
  } catch (err) {
    log.error({ err, file }, 'the bootstrap token could not be written to its file; use the token from the next log line');
  }
  log.warn(
    { setupUrl: setupUrl(ctx), file, expiresAt: row.expires_at.toISOString(), reason },
    `No active TOYBOX superuser. Open ${setupUrl(ctx)} and enter the one-time setup token ${token} (also in ${file}; valid until ${row.expires_at.toISOString()}).`,
  );
  printSetupBox({ setupUrl: setupUrl(ctx), file, expiresAt: row.expires_at });
  return row;
}

export type EnsureResult = 'closed' | 'kept' | 'issued';

/**
 * The start-up check. With an active superuser, setup is closed: live tokens
 * are retired and the file removed. Otherwise a still-valid token whose file
 * is intact is kept (restarts do not churn tokens); an expired, missing or
 * mismatched one is replaced by a fresh token.
 */
export async function ensureBootstrapToken(ctx: Ctx, log: Log = logger): Promise<EnsureResult> {
  if (await hasActiveSuperuser(ctx.knex)) {
    await retireLiveTokens(ctx);
    return 'closed';
  }
  const live = await findLiveToken(ctx.knex);
  const onDisk = await readTokenFile(ctx.config.DATA_DIR);
  if (live && !live.expired && onDisk && tokenMatches(onDisk, live.token_hash)) {
    const file = tokenFilePath(ctx.config.DATA_DIR);
    log.warn(
      { setupUrl: setupUrl(ctx), file, expiresAt: live.expires_at.toISOString() },
      `No active TOYBOX superuser. Open ${setupUrl(ctx)} and enter the one-time setup token kept in ${file} (valid until ${live.expires_at.toISOString()}).`,
    );
    printSetupBox({ setupUrl: setupUrl(ctx), file, expiresAt: live.expires_at });
    return 'kept';
  }
  await issueToken(ctx, log, live ? (live.expired ? 'expired' : 'file_missing') : 'no_superuser');
  return 'issued';
}

/** Spends every live token and removes the file: a superuser exists, so /setup must stop working. */
export async function retireLiveTokens(ctx: Ctx, db: Knex | Knex.Transaction = ctx.knex): Promise<number[]> {
  const ids = await spendLiveTokens(db, 'superseded');
  if (db === ctx.knex) await removeTokenFile(ctx.config.DATA_DIR);
  return ids;
}

export type TokenCheck = { ok: true; tokenId: number } | { ok: false; reason: 'none' | 'expired' | 'wrong' | 'burnt' };

/**
 * Checks a submitted token against the live one without spending it. A wrong
 * try is counted; the try after MAX_WRONG_TRIES burns the token and issues a
 * new one, so guessing gets nowhere even across many addresses.
 */
export async function checkSetupToken(ctx: Ctx, token: string, log: Log = logger): Promise<TokenCheck> {
  const live = await findLiveToken(ctx.knex);
  if (!live) return { ok: false, reason: 'none' };
  if (live.expired) return { ok: false, reason: 'expired' };
  if (tokenMatches(token, live.token_hash)) return { ok: true, tokenId: live.id };
  const failures = await countFailedAttempt(ctx.knex, live.id);
  if (failures !== null && failures > MAX_WRONG_TRIES) {
    await issueToken(ctx, log, 'burnt', async (trx) => {
      const burnt = await spendToken(trx, live.id, 'burnt');
      if (burnt) await recordAudit(trx, SYSTEM_ACTOR, 'bootstrap.token_burnt', `token:${live.id}`, { failed_attempts: failures });
      return burnt;
    });
    return { ok: false, reason: 'burnt' };
  }
  return { ok: false, reason: 'wrong' };
}

export interface SetupState {
  open: boolean;
  token: { expiresAt: Date; expired: boolean; failedAttempts: number } | null;
}

/** Whether /setup exists at all (no active superuser) and the state of its token. */
export async function setupState(ctx: Ctx): Promise<SetupState> {
  if (await hasActiveSuperuser(ctx.knex)) return { open: false, token: null };
  const live = await findLiveToken(ctx.knex);
  return { open: true, token: live ? { expiresAt: live.expires_at, expired: live.expired, failedAttempts: live.failed_attempts } : null };
}
