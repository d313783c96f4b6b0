import type { Knex } from 'knex';
import type { Config } from '../../../config';
import { z } from 'zod';
import type { LinkNext } from '../../../http/links';
import { verifyLink, LINK_TOKEN, type LinkClaims } from './signed-links';
import { findRecipient, recordUnsubscribe } from '../lifecycle/repo';
import { suppressAddress } from '../addresses/suppressions';

/** `/r/:token` and `/u/:token`: a token out of this shape answers 400, "this link is incomplete" (src/http/links.ts). */
export const linkTokenParams = z.object({ token: z.string().regex(LINK_TOKEN) });

/**
 * A dead personal link (forged, past its 90 days, or its recipient gone): the portal's home explains the outage and
 * links to TOYBOX's own sign-up page, where anyone can re-register without the link.
 */
export const REREGISTER_NEXT: LinkNext = { href: '/', key: 'campaigns.link.next_reregister' };

/**
 * A dead unsubscribe link: nothing was changed, and no link can be mailed again without an address we trust, so the
 * way left is TOYBOX's contact form (named on the home page, which explains the outage).
 */
export const UNSUBSCRIBE_NEXT: LinkNext = { href: '/', key: 'campaigns.link.next_unsubscribe' };

/** Checks a personal link by signature and expiry alone: a forged or stale token never reaches the database. */
export function checkLink(config: Config, purpose: 'r' | 'u', token: string): LinkClaims | null {
  return verifyLink(config.SESSION_SECRET, purpose, token);
}

export async function unsubscribeState(knex: Knex, claims: LinkClaims) {
  const r = await findRecipient(knex, claims.recipientId);
  if (!r || Number(r.campaign_id) !== claims.campaignId) return null;
  const s = await knex('portal.suppressions').where({ email_key: r.email_key }).first('reason');
  return { email: r.email, unsubscribed: Boolean(s) };
}

/** Immediate and permanent: the address joins the suppression list and every queued message to it is skipped. */
export async function unsubscribe(knex: Knex, claims: LinkClaims): Promise<{ email: string } | null> {
  const r = await findRecipient(knex, claims.recipientId);
  if (!r || Number(r.campaign_id) !== claims.campaignId) return null;
  await knex.transaction(async (trx) => {
    await recordUnsubscribe(trx, r.id);
    await suppressAddress(trx, r.email_key, 'unsubscribed', 'one-click or confirmation page', claims.campaignId);
  });
  return { email: r.email };
}
