import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { AppContext } from '../../app-context';
import { printSetupBox } from './setup-box';
import { logger } from '../../logger';
import { recordAudit } from '../../audit/service';
import { hasActiveSuperuser } from '../../toybox/users';
import { insertToken, findLiveToken, countFailedAttempt, spendLiveTokens, type TokenRow } from './repo';
import { formatJst } from '../../i18n/tokyo-time';
import { writeTokenFile, readTokenFile, removeTokenFile, tokenFilePath } from './token-file';
import { secretsEqual } from '../../auth/constant-time';

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

/** Compares the typed token's hash with the stored one, in constant time whatever was typed. */
export function tokenMatches(token: string, storedHash: Buffer): boolean {
  return secretsEqual(hashToken(token), storedHash);
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
async function issueToken(ctx: Ctx, log: Log, reason: string): Promise<TokenRow> {
  const token = generateToken();
  const row = await ctx.knex.transaction(async (trx) => {
    await spendLiveTokens(trx, 'superseded');
    const inserted = await insertToken(trx, hashToken(token), ctx.config.BOOTSTRAP_TOKEN_TTL_MINUTES);
    await recordAudit(trx, SYSTEM_ACTOR, 'bootstrap.token_issued', `token:${inserted.id}`, { reason, expires_at: inserted.expires_at.toISOString() });
    return inserted;
  });
  const file = tokenFilePath(ctx.config.DATA_DIR);
  try {
    await writeTokenFile(ctx.config.DATA_DIR, token);
  } catch (err) {
    log.error({ err, file }, 'the bootstrap token could not be written to its file; use the token from the next log line');
  }
  log.warn(
    { setupUrl: setupUrl(ctx), file, expiresAt: row.expires_at.toISOString(), reason },
    `No active TOYBOX superuser. Open ${setupUrl(ctx)} and enter the one-time setup token ${token} (also in ${file}; valid until ${formatJst(row.expires_at)}).`,
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
      `No active TOYBOX superuser. Open ${setupUrl(ctx)} and enter the one-time setup token kept in ${file} (valid until ${formatJst(live.expires_at)}).`,
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

export type TokenCheck = { ok: true; tokenId: number } | { ok: false; reason: 'none' | 'expired' | 'wrong' };

/**
 * Checks a submitted token against the live one without spending it. A wrong
 * try is only counted (the dashboard shows it): 256 random bits defeat
 * guessing, so anonymous failures must never withdraw the operator's token
 * (anyone could otherwise keep burning it). Guessing is slowed per address
 * by the route's rate limit instead.
 */
export async function checkSetupToken(ctx: Ctx, token: string): Promise<TokenCheck> {
  const live = await findLiveToken(ctx.knex);
  if (!live) return { ok: false, reason: 'none' };
  if (live.expired) return { ok: false, reason: 'expired' };
  if (tokenMatches(token, live.token_hash)) return { ok: true, tokenId: live.id };
  await countFailedAttempt(ctx.knex, live.id);
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
