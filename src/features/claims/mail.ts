import crypto from 'node:crypto';
import type { AppContext } from '../../app-context';
import { recordAudit } from '../../audit/service';
import { signPayload } from '../../auth/signing';
import { QUEUES } from '../../jobs/registry';
import { enqueueJob, type BackgroundWork } from '../../jobs/runner';
import { logger } from '../../logger';
import { deliverMessage, sweepMessages, type BuildMessage, type DeliveryOutcome } from '../../mail/send-queue';
import * as invites from './invitations-repo';
import * as mailRepo from './mail-repo';

/*
 * The claims feature's e-mails (the proof link, the account invitation) go
 * through src/mail/send-queue.ts: queued with their row, sent by the claims.mail
 * job exactly once, never to a suppressed address, at the outbound rate.
 * The link is derived in the worker from a nonce (HMAC under SESSION_SECRET),
 * so no token waits in the queue and a resend carries the same link.
 */

export const INVITATION_DAYS = 7;
export const EMAIL_LINK_MINUTES = 60;

const INVITATION_REF = 'claims.invitation:';
const EMAIL_LINK_REF = 'claims.email-link:';
const PURPOSE = { invitation: 'claims-invitation-link', emailLink: 'claims-email-link' } as const;

export const invitationRef = (invitationId: number) => `${INVITATION_REF}${invitationId}`;
export const emailLinkRef = (tokenId: number) => `${EMAIL_LINK_REF}${tokenId}`;

export const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

/** A fresh nonce and the link token it derives (43 base64url characters, as the routes expect). */
export function newLink(ctx: AppContext, kind: keyof typeof PURPOSE): { nonce: string; token: string } {
  const nonce = crypto.randomBytes(24).toString('base64url');
  return { nonce, token: signPayload(ctx.config.SESSION_SECRET, PURPOSE[kind], nonce) };
}

const linkToken = (ctx: AppContext, kind: keyof typeof PURPOSE, nonce: string) => signPayload(ctx.config.SESSION_SECRET, PURPOSE[kind], nonce);

/** Sends the job for a queued message; a lost enqueue is picked up by the sweep, so it never fails the caller. */
export async function kickMessage(ctx: AppContext, mailId: number): Promise<void> {
  try {
    await enqueueJob(ctx, 'claimsMail', { mailId });
  } catch (err) {
    logger.warn({ err, mail: mailId }, 'claims e-mail queued but its job was not sent; the sweep will send it');
  }
}

const build = (ctx: AppContext): BuildMessage => async (row) => {
  if (row.ref.startsWith(INVITATION_REF)) {
    const inv = await invites.invitationForMail(ctx.knex, Number(row.ref.slice(INVITATION_REF.length)));
    if (!inv?.link_nonce || inv.used_at || inv.expires_at < new Date()) return null;
    const url = `${ctx.config.PUBLIC_URL}/recover/invite/${linkToken(ctx, 'invitation', inv.link_nonce)}`;
    return { locals: { url, days: INVITATION_DAYS, displayId: inv.display_id, toyboxUrl: ctx.config.TOYBOX_URL } };
  }
  if (row.ref.startsWith(EMAIL_LINK_REF)) {
    const t = await mailRepo.emailTokenForMail(ctx.knex, Number(row.ref.slice(EMAIL_LINK_REF.length)));
    if (!t?.link_nonce || t.confirmed_at || t.expires_at < new Date()) return null;
    const url = `${ctx.config.PUBLIC_URL}/recover/email/${linkToken(ctx, 'emailLink', t.link_nonce)}`;
    return { locals: { url, minutes: EMAIL_LINK_MINUTES, displayId: t.display_id } };
  }
  throw new Error(`claims.mail: unknown message ref ${row.ref}`);
};

/** The claims.mail job: one queued message, sent exactly once; an invitation that went out is marked and audited. */
export async function sendClaimsMail(ctx: AppContext, mailId: number): Promise<DeliveryOutcome> {
  const out = await deliverMessage(ctx, mailId, build(ctx), { maxAttempts: QUEUES.claimsMail.retryLimit + 1 });
  if (out.sent && out.ref?.startsWith(INVITATION_REF)) {
    const id = Number(out.ref.slice(INVITATION_REF.length));
    await invites.markSent(ctx.knex, id);
    const inv = await invites.invitationForMail(ctx.knex, id);
    await recordAudit(ctx.knex, inv?.created_by ?? 'system', 'claims.invitation_sent', `user:${inv?.user_id ?? '?'}`, { old_user_id: inv?.old_user_id ?? null });
  }
  return out;
}

/** Background work of the claims feature: the mail job and its sweep. */
export const claimsBackground: BackgroundWork = {
  queues: {
    claimsMail: (ctx, data) => sendClaimsMail(ctx, data.mailId),
  },
  timers: {
    claimsMailSweep: async (ctx) => {
      for (const id of await sweepMessages(ctx, 'claims.')) await kickMessage(ctx, id);
    },
  },
};
