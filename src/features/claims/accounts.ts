import crypto from 'node:crypto';
import type { AppContext } from '../../app-context';
import { recordAudit } from '../../audit/service';
import { makeDjangoPassword } from '../../auth/django-password';
import { Conflict, HttpError, NotFound } from '../../http/errors';
import { type Lang } from '../../i18n';
import { LinkGone, type LinkNext } from '../../http/links';
import { addFieldError, hasFieldErrors, InvalidInput, type FieldErrors } from '../../http/field-errors';
import { checkPassword } from '../../auth/password-rules';
import { addressKey } from '../../mail/address';
import { messageStates, queueMessage } from '../../mail/send-queue';
import { isSuppressed } from '../../mail/suppressions';
import * as catalogue from '../../salvage-catalogue';
import * as rows from '../../toybox/restored-rows';
import * as repo from './repo';
import * as invites from './invitations-repo';
import { restore, candidates, type RestoreResult } from './restore';
import { isPlaceholderEmail } from './service';
import { plainText } from './text';
import { hashToken, INVITATION_DAYS, invitationRef, kickMessage, newLink } from './mail';

export interface AccountRestore {
  user_id: number;
  display_id: string;
  already: boolean;
  restore: RestoreResult | null;
  /** Null when no invitation was asked for. */
  invitation: InvitationState | null;
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
      articles: 'all',
      avatar: already ? null : (cand.avatars.at(-1)?.file_id ?? null),
      header: already ? null : (cand.headers.at(-1)?.file_id ?? null),
      display_name: false,
      bio: false,
    });
  }
  let invitation: InvitationState | null = null;
  if (opts.invite) invitation = account.email ? await inviteAccountOwner(ctx, staffActor, account.id, oldUserId, account.email, opts.lang) : { state: 'no_email' };
  return { user_id: account.id, display_id: account.display_id, already, restore: result, invitation };
}

export type InvitationState =
  /** Queued now; the claims.mail job sends it (at the outbound rate). */
  | { state: 'queued'; at: Date }
  /** An earlier invitation is unused and valid: not sent again. `delivery` is where its e-mail is. */
  | { state: 'already'; delivery: 'queued' | 'sending' | 'sent'; at: Date }
  /** Not sent: the address is on the suppression list (bounce, complaint, unsubscribe, admin block). */
  | { state: 'suppressed' }
  /** Not sent: the account has no usable address. */
  | { state: 'no_email' };

/**
 * The one-time "set your password" e-mail, queued with its invitation in one
 * transaction (src/mail/send-queue.ts sends it exactly once from the claims.mail
 * job). Not queued again while an earlier one is valid, unused and not given
 * up on; never queued for a suppressed address.
 */
export async function inviteAccountOwner(ctx: AppContext, staffActor: string, userId: number, oldUserId: number, email: string, lang: Lang): Promise<InvitationState> {
  const key = addressKey(email);
  if (!key) return { state: 'no_email' };
  const result = await ctx.knex.transaction(async (trx): Promise<InvitationState & { mailId?: number }> => {
    await invites.lockAccountInvitations(trx, userId);
    const live = await invites.liveInvitations(trx, userId);
    const states = await messageStates(trx, live.map((i) => invitationRef(i.id)));
    for (const inv of live) {
      const m = states.get(invitationRef(inv.id));
      // sent before invitations were queued (no queued message), or still on its way / delivered
      if (!m && inv.sent_at) return { state: 'already', delivery: 'sent', at: inv.sent_at };
      if (m && (m.status === 'queued' || m.status === 'sending' || m.status === 'sent')) return { state: 'already', delivery: m.status, at: m.sent_at ?? m.created_at };
    }
    if (await isSuppressed(trx, key)) {
      await recordAudit(trx, staffActor, 'claims.invitation_suppressed', `user:${userId}`, { old_user_id: oldUserId });
      return { state: 'suppressed' };
    }
    const link = newLink(ctx, 'invitation');
    const id = await invites.insertInvitation(trx, { user_id: userId, old_user_id: oldUserId, email, token_hash: hashToken(link.token), link_nonce: link.nonce, created_by: staffActor, expires_at: new Date(Date.now() + INVITATION_DAYS * 86400_000) });
    const mailId = await queueMessage(trx, 'claimsInvitation', invitationRef(id), email, lang);
    await recordAudit(trx, staffActor, 'claims.invitation_queued', `user:${userId}`, { old_user_id: oldUserId });
    return { state: 'queued', at: new Date(), mailId };
  });
  if (result.mailId !== undefined) {
    await kickMessage(ctx, result.mailId);
    return { state: 'queued', at: (result as { at: Date }).at };
  }
  return result;
}

/**
 * A dead invitation (unknown, used, or past its 7 days): only staff can send a new one, so the way is TOYBOX's contact
 * form; the portal's home explains the outage (src/http/links.ts).
 */
export const INVITE_NEXT: LinkNext = { href: '/', key: 'claims.invite.link_next' };

async function usableInvitation(ctx: AppContext, token: string) {
  const row = await invites.findByTokenHash(ctx.knex, hashToken(token));
  if (!row || row.used_at || row.expires_at < new Date()) throw new LinkGone(INVITE_NEXT);
  return row;
}

/** What the invitation page shows (the account's display id), or 410 for a used, expired or unknown link. */
export async function describeInvitation(ctx: AppContext, token: string): Promise<{ display_id: string }> {
  const inv = await usableInvitation(ctx, token);
  return { display_id: inv.display_id };
}

/** TOYBOX's password rules (Django's four validators, src/auth/password-rules.ts) and the confirmation, per field. */
export function passwordErrors(password: string, password2: string, user: { email: string | null; display_id: string }): FieldErrors {
  const errors: FieldErrors = {};
  for (const p of checkPassword(password, user)) addFieldError(errors, 'password', p.key, p.vars);
  if (password !== password2) addFieldError(errors, 'password2', 'claims.invite.mismatch');
  return errors;
}

/**
 * Sets the account's password from the invitation: checked against TOYBOX's
 * rules (problems per field, 422), hashed (PBKDF2 as Django's default hasher,
 * outside the lock), then, under the invitation's row lock, checked unused,
 * set and marked used in one transaction.
 */
export async function acceptInvitation(ctx: AppContext, token: string, password: string, password2: string): Promise<{ display_id: string }> {
  const inv = await usableInvitation(ctx, token);
  const errors = passwordErrors(password, password2, inv);
  if (hasFieldErrors(errors)) throw new InvalidInput(errors);
  const encoded = await makeDjangoPassword(password);
  await ctx.knex.transaction(async (trx) => {
    const row = await invites.lockInvitation(trx, inv.id);
    if (!row || row.used_at || row.expires_at < new Date()) throw new LinkGone(INVITE_NEXT);
    await rows.setPasswordHash(trx, inv.user_id, encoded);
    await invites.markUsed(trx, inv.id);
    await recordAudit(trx, `user:${inv.user_id}:${inv.display_id}`, 'claims.invitation_accepted', `user:${inv.user_id}`, {});
  });
  return { display_id: inv.display_id };
}
