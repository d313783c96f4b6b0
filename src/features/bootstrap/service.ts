import type { Knex } from 'knex';
import type { AppContext } from '../../app-context';
import { makeDjangoPassword } from '../../auth/django-password';
import { endPortalSessions } from '../../auth/sessions';
import { recordAudit } from '../../audit/service';
import { findUserById, findUsersByLogin, hasActiveSuperuser, type ToyboxUser } from '../../toybox/users';
import { DEFAULT_ADMIN_ROLE, findClashingUsers, insertSuperuser, normalizeEmail, promoteToSuperuser, setUserPasswordHash, type AdminRole, type ExistingUser } from '../../toybox/superusers';
import { checkPassword, type PasswordProblem } from '../../auth/password-rules';
import { lockToken, spendToken } from './repo';
import { retireLiveTokens, tokenMatches } from './tokens';
import { removeTokenFile } from './token-file';

type Ctx = Pick<AppContext, 'knex' | 'config'>;

export interface NewSuperuser {
  email: string;
  display_id: string;
  password: string;
  /** ADMIN (default) opens Django admin and TOYBOX's console; SUPERUSER is createsuperuser's role (no console). */
  role?: AdminRole;
}

export type SetupRefusal = 'none' | 'expired' | 'wrong' | 'used' | 'closed';

/** Why a create/promote/set-password did not happen; routes and the CLI turn it into their own words. */
export class BootstrapRefused extends Error {
  constructor(
    public readonly reason: SetupRefusal | 'clash' | 'password' | 'not_found' | 'ambiguous' | 'suspended',
    public readonly detail: { clashes?: ExistingUser[]; problems?: PasswordProblem[] } = {},
  ) {
    super(reason);
  }
}

/** Which fields of a new account clash with existing users (same e-mail, case-insensitive; same display id). */
export async function clashingFields(
  db: Knex | Knex.Transaction,
  email: string | null,
  displayId: string | null,
): Promise<{ email?: ExistingUser; display_id?: ExistingUser }> {
  const normalized = email === null ? null : normalizeEmail(email);
  const rows = await findClashingUsers(db, normalized, displayId);
  return {
    email: normalized === null ? undefined : rows.find((r) => r.email !== null && r.email.toLowerCase() === normalized.toLowerCase()),
    display_id: displayId === null ? undefined : rows.find((r) => r.display_id === displayId),
  };
}

/** Django's validate_password for a new or existing account, with TOYBOX's attributes. */
export function passwordProblems(password: string, user: { email: string | null; display_id: string }): PasswordProblem[] {
  return checkPassword(password, { email: user.email, display_id: user.display_id });
}

async function insertChecked(trx: Knex.Transaction, u: NewSuperuser, passwordHash: string): Promise<number> {
  const clash = await clashingFields(trx, u.email, u.display_id);
  if (clash.email || clash.display_id) throw new BootstrapRefused('clash', { clashes: [clash.email, clash.display_id].filter((c): c is ExistingUser => !!c) });
  try {
    return await insertSuperuser(trx, { email: u.email, display_id: u.display_id, passwordHash, role: u.role ?? DEFAULT_ADMIN_ROLE });
  } catch (err) {
    // users_email_key: a concurrent insert of the same e-mail won the race
    if ((err as { code?: string }).code === '23505') throw new BootstrapRefused('clash', { clashes: [] });
    throw err;
  }
}

/**
 * The web path: creates TOYBOX's superuser with the one-time token, in one
 * transaction with the token's spend and the audit record. The token row is
 * locked first, so of two simultaneous submissions exactly one creates a user
 * and the other finds the token spent.
 */
export async function createSuperuserWithToken(ctx: Ctx, tokenId: number, token: string, u: NewSuperuser, actor: string): Promise<ToyboxUser> {
  // ~200 ms of CPU at Django's 1,000,000 iterations: done before the lock is taken.
  const passwordHash = await hashNewPassword(u);
  const id = await ctx.knex.transaction(async (trx) => {
    const row = await lockToken(trx, tokenId);
    if (!row || row.spent_at) throw new BootstrapRefused('used');
    if (row.expired) throw new BootstrapRefused('expired');
    if (!tokenMatches(token, row.token_hash)) throw new BootstrapRefused('wrong');
    if (await hasActiveSuperuser(trx)) throw new BootstrapRefused('closed');
    const userId = await insertChecked(trx, u, passwordHash);
    if (!(await spendToken(trx, tokenId, 'used'))) throw new BootstrapRefused('used');
    await auditSuperuserCreated(trx, actor, userId, u, { via: 'web', token_id: tokenId });
    return userId;
  });
  return superuserCreated(ctx, id);
}

/**
 * The CLI path (`admin create`), for the trusted operator on the host: works
 * whether or not a superuser exists, refuses duplicates, and retires any web
 * setup token since a superuser now exists.
 */
export async function createSuperuserFromCli(ctx: Ctx, u: NewSuperuser, actor: string): Promise<ToyboxUser> {
  const passwordHash = await hashNewPassword(u);
  const id = await ctx.knex.transaction(async (trx) => {
    const userId = await insertChecked(trx, u, passwordHash);
    const retired = await retireLiveTokens(ctx, trx);
    await auditSuperuserCreated(trx, actor, userId, u, { via: 'cli', retired_tokens: retired });
    return userId;
  });
  return superuserCreated(ctx, id);
}

/** The new superuser's password checked against the rules (refused with the problems) and hashed as Django does. */
async function hashNewPassword(u: NewSuperuser): Promise<string> {
  const problems = passwordProblems(u.password, u);
  if (problems.length) throw new BootstrapRefused('password', { problems });
  return makeDjangoPassword(u.password);
}

/** The one audit record of a new superuser, from either path; `how` says which (and its token bookkeeping). */
function auditSuperuserCreated(
  trx: Knex.Transaction,
  actor: string,
  userId: number,
  u: NewSuperuser,
  how: { via: 'web'; token_id: number } | { via: 'cli'; retired_tokens: number[] },
): Promise<void> {
  const { via, ...tokens } = how;
  return recordAudit(trx, actor, 'bootstrap.superuser_created', `user:${userId}:${u.display_id}`, {
    via,
    email: normalizeEmail(u.email),
    display_id: u.display_id,
    role: u.role ?? DEFAULT_ADMIN_ROLE,
    ...tokens,
  });
}

/** A superuser exists now: the token file has no use left; returns the user as stored. */
async function superuserCreated(ctx: Ctx, id: number): Promise<ToyboxUser> {
  await removeTokenFile(ctx.config.DATA_DIR);
  return (await findUserById(ctx.knex, id))!;
}

/** One account by e-mail (or display id); refuses an id two accounts share rather than guessing. */
export async function findOneUser(ctx: Ctx, identifier: string): Promise<ToyboxUser> {
  const found = await findUsersByLogin(ctx.knex, identifier.trim());
  if (found.length === 0) throw new BootstrapRefused('not_found');
  if (found.length > 1) throw new BootstrapRefused('ambiguous');
  return found[0]!;
}

/**
 * `admin promote`: a person who re-registered through the site becomes a
 * superuser. A suspended account is only promoted when asked to lift the
 * suspension too. Returns false when there was nothing to change.
 */
export async function promoteUser(
  ctx: Ctx,
  identifier: string,
  actor: string,
  opts: { unsuspend?: boolean; role?: AdminRole } = {},
): Promise<{ user: ToyboxUser; changed: boolean }> {
  const role = opts.role ?? DEFAULT_ADMIN_ROLE;
  const user = await findOneUser(ctx, identifier);
  if (user.is_suspended && !opts.unsuspend) throw new BootstrapRefused('suspended');
  if (user.is_superuser && user.is_staff && user.is_active && user.role === role && !user.is_suspended) return { user, changed: false };
  await ctx.knex.transaction(async (trx) => {
    await promoteToSuperuser(trx, user.id, { unsuspend: opts.unsuspend, role });
    const retired = await retireLiveTokens(ctx, trx);
    await recordAudit(trx, actor, 'admin.promote', `user:${user.id}:${user.display_id}`, {
      previous_role: user.role,
      role,
      was_active: user.is_active,
      unsuspended: Boolean(opts.unsuspend && user.is_suspended),
      retired_tokens: retired,
    });
  });
  await removeTokenFile(ctx.config.DATA_DIR);
  return { user: (await findUserById(ctx.knex, user.id))!, changed: true };
}

/** `admin set-password`: the locked-out admin's way back, with TOYBOX's password rules; ends their portal sessions. */
export async function setPassword(ctx: Ctx, identifier: string, password: string, actor: string): Promise<ToyboxUser> {
  const user = await findOneUser(ctx, identifier);
  const problems = passwordProblems(password, user);
  if (problems.length) throw new BootstrapRefused('password', { problems });
  const passwordHash = await makeDjangoPassword(password);
  await ctx.knex.transaction(async (trx) => {
    await setUserPasswordHash(trx, user.id, passwordHash);
    const sessionsEnded = await endPortalSessions(trx, user.id);
    await recordAudit(trx, actor, 'admin.set_password', `user:${user.id}:${user.display_id}`, { hasher: 'pbkdf2_sha256', sessionsEnded });
  });
  return (await findUserById(ctx.knex, user.id))!;
}
