import crypto from 'node:crypto';
import type { AppContext } from '../../app-context';
import { recordAudit } from '../../audit/service';
import { makeDjangoPassword } from '../../auth/django-password';
import { Conflict, HttpError, NotFound } from '../../http/errors';
import { type Lang } from '../../http/i18n';
import { sendEmail } from '../../mail/send';
import * as catalogue from '../../salvage-catalogue';
import * as rows from '../../toybox/restored-rows';
import * as repo from './repo';
import * as invites from './invitations-repo';
import { restore, candidates, type RestoreResult } from './restore';
import { isPlaceholderEmail } from './service';
import { plainText } from './text';

export const INVITATION_DAYS = 7;
const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

export interface AccountRestore {
  user_id: number;
  display_id: string;
  already: boolean;
  restore: RestoreResult | null;
  invited: boolean;
}

/**
 * Staff bring back an old account whose owner never re-registered: a TOYBOX
 * account with an unusable password, the old display id (refused if someone
 * now holds it), the old e-mail when nobody uses it, provenance in old_id, an
 * approved claim in the staff's name, then a restore of everything it had.
 * Refused while anyone claims the old id. Running it again adds nothing.
 */
export async function restoreAbandonedAccount(ctx: AppContext, staffActor: string, oldUserId: number, opts: { invite: boolean; displayId?: string; lang: Lang }): Promise<AccountRestore> {
  const acc = await catalogue.oldAccount(ctx.knex, oldUserId);
  if (!acc) throw NotFound('claims.account.no_old_account');
  const oldId = String(oldUserId);
  let account = await rows.userWithOldId(ctx.knex, oldId);
  const already = Boolean(account);
  if (!account) {
    const displayId = opts.displayId ?? acc.display_id;
    if (!/^[A-Za-z0-9_]{3,30}$/.test(displayId)) throw new HttpError(422, 'claims.account.bad_display_id');
    const email = acc.email && !isPlaceholderEmail(acc.email) && !(await rows.emailTaken(ctx.knex, acc.email)) ? acc.email : null;
    // Django's unusable password: '!' and 40 random characters; nobody can sign in until the owner sets one.
    const unusable = `!${crypto.randomBytes(30).toString('base64url').slice(0, 40)}`;
    account = await ctx.knex.transaction(async (trx) => {
      const claims = await repo.lockClaimsOnOldId(trx, oldUserId);
      if (claims.some((c) => c.status !== 'rejected')) throw Conflict('claims.account.claimed');
      if (await rows.displayIdTaken(trx, displayId)) throw Conflict('claims.account.display_id_taken', { display_id: displayId });
      const { userId } = await rows.insertRestoredAccount(trx, {
        display_id: displayId,
        email,
        unusable_password: unusable,
        old_id: oldId,
        created_at: acc.created_at ?? new Date(),
        display_name: plainText(acc.display_name ?? '', 50),
        bio: plainText(acc.bio ?? '', 2000),
      });
      const claim = await repo.upsertClaim(trx, userId, oldUserId, 6, acc.display_id);
      await repo.updateClaim(trx, claim.id, { status: 'approved', decided_by: staffActor, decided_at: new Date(), reason: 'account restored by staff (owner never re-registered)' });
      await recordAudit(trx, staffActor, 'claims.account_restored', `user:${userId}`, { old_user_id: oldUserId, display_id: displayId, email: Boolean(email) });
      return { id: userId, display_id: displayId, email };
    });
  }
  const claim = (await repo.claimsOfUser(ctx.knex, account.id)).find((c) => c.old_user_id === oldUserId && c.status === 'approved');
  let result: RestoreResult | null = null;
  if (claim) {
    const cand = await candidates(ctx, account.id, claim.id);
    result = await restore(ctx, { id: account.id, display_id: account.display_id, actor: staffActor }, claim.id, {
      posts: 'all',
      cards: 'all',
      avatar: already ? null : (cand.avatars.at(-1)?.file_id ?? null),
      header: already ? null : (cand.headers.at(-1)?.file_id ?? null),
      display_name: false,
      bio: false,
    });
  }
  const invited = opts.invite && account.email ? await inviteAccountOwner(ctx, staffActor, account.id, oldUserId, account.email, account.display_id, opts.lang) : false;
  return { user_id: account.id, display_id: account.display_id, already, restore: result, invited };
}

/** The one-time "set your password" e-mail; an invitation already sent and still valid is not sent again. */
export async function inviteAccountOwner(ctx: AppContext, staffActor: string, userId: number, oldUserId: number, email: string, displayId: string, lang: Lang): Promise<boolean> {
  if (await invites.openInvitation(ctx.knex, userId)) return false;
  const token = crypto.randomBytes(32).toString('base64url');
  const id = await invites.insertInvitation(ctx.knex, { user_id: userId, old_user_id: oldUserId, email, token_hash: hashToken(token), created_by: staffActor, expires_at: new Date(Date.now() + INVITATION_DAYS * 86400_000) });
  const url = `${ctx.config.PUBLIC_URL}/recover/invite/${token}`;
  await sendEmail(ctx, 'claimsInvitation', { to: email, lang, locals: { url, days: INVITATION_DAYS, displayId, toyboxUrl: ctx.config.TOYBOX_URL } });
  await invites.markSent(ctx.knex, id);
  await recordAudit(ctx.knex, staffActor, 'claims.invitation_sent', `user:${userId}`, { old_user_id: oldUserId });
  return true;
}

async function usableInvitation(ctx: AppContext, token: string) {
  const row = await invites.findByTokenHash(ctx.knex, hashToken(token));
  if (!row || row.used_at || row.expires_at < new Date()) throw new HttpError(410, 'claims.invite.link_gone');
  return row;
}

/** What the invitation page shows (the account's display id), or 410 for a used, expired or unknown link. */
export async function describeInvitation(ctx: AppContext, token: string): Promise<{ display_id: string }> {
  const inv = await usableInvitation(ctx, token);
  return { display_id: inv.display_id };
}

/** The password rules of TOYBOX's settings that need no word list: length 8, not only digits, not the display id. */
export function passwordProblem(password: string, displayId: string): string | null {
  if (password.length < 8) return 'claims.invite.too_short';
  if (/^\d+$/.test(password)) return 'claims.invite.numeric';
  if (displayId.length >= 3 && password.toLowerCase().includes(displayId.toLowerCase())) return 'claims.invite.similar';
  return null;
}

/**
 * Sets the account's password from the invitation: hashed first (PBKDF2 as
 * Django's default hasher, outside the lock), then, under the invitation's row
 * lock, checked unused, set and marked used in one transaction.
 */
export async function acceptInvitation(ctx: AppContext, token: string, password: string): Promise<{ display_id: string }> {
  const inv = await usableInvitation(ctx, token);
  const problem = passwordProblem(password, inv.display_id);
  if (problem) throw new HttpError(422, problem);
  const encoded = await makeDjangoPassword(password);
  await ctx.knex.transaction(async (trx) => {
    const row = await invites.lockInvitation(trx, inv.id);
    if (!row || row.used_at || row.expires_at < new Date()) throw new HttpError(410, 'claims.invite.link_gone');
    await rows.setPasswordHash(trx, inv.user_id, encoded);
    await invites.markUsed(trx, inv.id);
    await recordAudit(trx, `user:${inv.user_id}:${inv.display_id}`, 'claims.invitation_accepted', `user:${inv.user_id}`, {});
  });
  return { display_id: inv.display_id };
}
