import crypto from 'node:crypto';
import type { AppContext } from '../../app-context';
import type { Lang } from '../../i18n';
import { translator } from '../../i18n';
import { signPayload, signaturesMatch } from '../../auth/signing';
import { normaliseAddress } from '../../mail/address';
import { isSuppressed } from '../../mail/suppressions';
import { sendEmail } from '../../mail/send';
import { enqueueJob } from '../../jobs/runner';
import { workOwner } from '../../jobs/ownership';
import { renderMarkdown, markdownTitleText, markdownToPlainText } from './markdown';
import * as repo from './subscribers-repo';

const CONFIRM_TTL_MS = 48 * 3600_000;
const BATCH = 20;
const MAX_ATTEMPTS = 3;

function sign(ctx: AppContext, purpose: 'notice-confirm' | 'notice-unsubscribe', payload: string): string {
  return signPayload(ctx.config.SESSION_SECRET, purpose, payload);
}

/** The confirmation link's token: the subscriber id and their current nonce, signed (the nonce alone grants nothing). */
export function confirmToken(ctx: AppContext, id: number, nonce: string): string {
  return `${id}.${nonce}.${sign(ctx, 'notice-confirm', `${id}.${nonce}`)}`;
}

/** The unsubscribe link's token: valid for as long as the subscription exists. */
export function unsubscribeToken(ctx: AppContext, id: number): string {
  return `${id}.${sign(ctx, 'notice-unsubscribe', String(id))}`;
}

/** The shapes of the two tokens: anything else is a malformed link (400), see src/http/links.ts. */
export const CONFIRM_TOKEN = /^(\d{1,18})\.([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{43})$/;
export const UNSUBSCRIBE_TOKEN = /^(\d{1,18})\.([A-Za-z0-9_-]{43})$/;

function parseConfirm(ctx: AppContext, token: string): { id: number; nonce: string } | null {
  const m = CONFIRM_TOKEN.exec(token);
  if (!m) return null;
  return signaturesMatch(sign(ctx, 'notice-confirm', `${m[1]}.${m[2]}`), m[3]!) ? { id: Number(m[1]), nonce: m[2]! } : null;
}

function parseUnsubscribe(ctx: AppContext, token: string): number | null {
  const m = UNSUBSCRIBE_TOKEN.exec(token);
  if (!m) return null;
  return signaturesMatch(sign(ctx, 'notice-unsubscribe', m[1]!), m[2]!) ? Number(m[1]) : null;
}

export type SubscribeResult = { ok: true } | { ok: false; error: 'notice.subscribe.bad_email' };

/**
 * Records a request and queues the confirmation e-mail (double opt-in). The
 * answer is the same whether the address was new, pending or already
 * subscribed, so the form tells nobody who subscribes.
 */
export async function requestSubscription(ctx: AppContext, rawEmail: string, lang: Lang): Promise<SubscribeResult> {
  const n = normaliseAddress(rawEmail);
  if (!n.ok) return { ok: false, error: 'notice.subscribe.bad_email' };
  const nonce = crypto.randomBytes(16).toString('base64url');
  const row = await repo.upsertRequest(ctx.knex, { email: n.email, email_key: n.key, lang, nonce, expiresAt: new Date(Date.now() + CONFIRM_TTL_MS) });
  await enqueueJob(ctx, 'noticeConfirmMail', { subscriberId: row.id, nonce }, { singletonKey: `confirm-${row.id}-${nonce}` });
  return { ok: true };
}

/** Whether a confirmation link is genuine and still pending (for the page that shows the button). */
export async function checkConfirmLink(ctx: AppContext, token: string): Promise<repo.SubscriberRow | null> {
  const c = parseConfirm(ctx, token);
  if (!c) return null;
  const s = await repo.findSubscriber(ctx.knex, c.id);
  if (!s || s.confirm_nonce !== c.nonce || !s.confirm_expires_at || s.confirm_expires_at <= new Date()) return null;
  return s;
}

/** The POST behind the confirmation page. */
export async function confirmSubscription(ctx: AppContext, token: string): Promise<boolean> {
  const c = parseConfirm(ctx, token);
  return c ? repo.markConfirmed(ctx.knex, c.id, c.nonce) : false;
}

export async function checkUnsubscribeLink(ctx: AppContext, token: string): Promise<repo.SubscriberRow | null> {
  const id = parseUnsubscribe(ctx, token);
  return id === null ? null : ((await repo.findSubscriber(ctx.knex, id)) ?? null);
}

/** One-click unsubscribe (RFC 8058) and the page's button; true when the link was genuine. */
export async function unsubscribe(ctx: AppContext, token: string): Promise<repo.SubscriberRow | null> {
  const id = parseUnsubscribe(ctx, token);
  if (id === null) return null;
  const s = await repo.findSubscriber(ctx.knex, id);
  if (!s) return null;
  await repo.markUnsubscribed(ctx.knex, id);
  return s;
}

/** The queued confirmation e-mail (src/jobs/registry.ts: notice.subscribers.confirm); a failed send is retried by the queue. */
export async function sendConfirmMail(ctx: AppContext, subscriberId: number, nonce: string): Promise<void> {
  const s = await repo.findSubscriber(ctx.knex, subscriberId);
  // a newer request replaced this nonce: its own job sends the current link
  if (!s || s.confirm_nonce !== nonce) return;
  if (await isSuppressed(ctx.knex, s.email_key)) return;
  const confirmUrl = `${ctx.config.PUBLIC_URL}/status/subscribe/confirm/${confirmToken(ctx, s.id, nonce)}`;
  await sendEmail(ctx, 'noticeConfirm', { to: s.email, lang: s.lang, locals: { confirmUrl, statusUrl: `${ctx.config.PUBLIC_URL}/status?lang=${s.lang}` } });
}

function unsubscribeHeaders(ctx: AppContext, url: string, token: string) {
  const domain = new URL(ctx.config.PUBLIC_URL).hostname;
  return {
    'List-Unsubscribe': `<${url}>, <mailto:unsubscribe@${domain}?subject=unsubscribe%20${token}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    'List-Id': `TOYBOX status <status.${domain}>`,
  };
}

async function sendOne(ctx: AppContext, d: repo.ClaimedDelivery): Promise<void> {
  const [s, u] = await Promise.all([repo.findSubscriber(ctx.knex, d.subscriber_id), repo.findUpdateForMail(ctx.knex, d.update_id)]);
  if (!s || !u || s.unsubscribed_at || !s.confirmed_at) return repo.finishDelivery(ctx.knex, d, 'skipped', 'no longer subscribed');
  if (await isSuppressed(ctx.knex, s.email_key)) return repo.finishDelivery(ctx.knex, d, 'skipped', 'suppressed');
  const lang = s.lang;
  const t = translator(lang);
  const title = markdownTitleText(lang === 'en' && u.title_en.trim() ? u.title_en : u.title_ja);
  const body = lang === 'en' && u.body_en.trim() ? u.body_en : u.body_ja;
  const token = unsubscribeToken(ctx, s.id);
  const unsubscribeUrl = `${ctx.config.PUBLIC_URL}/status/unsubscribe/${token}`;
  const statusUrl = `${ctx.config.PUBLIC_URL}/status?lang=${lang}#notice-${u.notice_id}`;
  const state = t(`notice.state.${u.state}`);
  const locals = { title, state, at: u.at, bodyHtml: renderMarkdown(body), bodyText: markdownToPlainText(body, ctx.config.PUBLIC_URL), statusUrl, unsubscribeUrl };
  try {
    await sendEmail(ctx, 'noticeUpdate', { to: s.email, lang, locals, subjectVars: { state, title }, headers: unsubscribeHeaders(ctx, unsubscribeUrl, token) });
  } catch (err) {
    const again = d.attempts < MAX_ATTEMPTS;
    await repo.finishDelivery(ctx.knex, d, again ? 'queued' : 'failed', (err as Error).message.slice(0, 500));
    return;
  }
  await repo.finishDelivery(ctx.knex, d, 'sent');
}

/** Queues every new update for every confirmed subscriber, then sends what is queued; safe to run anywhere, any number of times. */
export async function deliverUpdates(ctx: AppContext): Promise<{ sent: number }> {
  await repo.queueDeliveries(ctx.knex);
  const owner = (await workOwner(ctx)).id;
  let sent = 0;
  for (;;) {
    const batch = await repo.claimDeliveries(ctx.knex, BATCH, owner);
    if (!batch.length) return { sent };
    for (const d of batch) {
      await sendOne(ctx, d);
      sent += 1;
    }
  }
}

/** Status e-mails surfaced for a week after a process died mid-send. */
export const INTERRUPTED_WINDOW_DAYS = 7;

/**
 * Status e-mails a process was sending when it died (its work-owner lock is gone): each may or may not have
 * reached the subscriber. They stay 'sending' and are never sent again (a second copy of a status update is
 * worse than a missed one: the status page has it); the recovery checklist lists them for the operator.
 */
export async function interruptedDeliveries(ctx: AppContext): Promise<repo.SendingDelivery[]> {
  const owner = await workOwner(ctx);
  const gone = new Map<string | null, boolean>();
  const out: repo.SendingDelivery[] = [];
  for (const d of await repo.listSendingDeliveries(ctx.knex, INTERRUPTED_WINDOW_DAYS)) {
    if (!gone.has(d.owner)) gone.set(d.owner, await owner.isGone(d.owner));
    if (gone.get(d.owner)) out.push(d);
  }
  return out;
}

/** Asks a worker to mail new updates (one job at a time across instances). */
export async function kickSubscriberMail(ctx: AppContext): Promise<void> {
  await enqueueJob(ctx, 'noticeFanout', {}, { singletonKey: 'notice-fanout' });
}

const KICK_ANYWAY_MS = 60_000;
const lastKick = new WeakMap<AppContext, { version: number; at: number }>();

/**
 * The notice.mail-kick timer's tick: queues the fan-out when this instance sees a new notice version (it may
 * carry a new update), and every minute anyway, for deliveries waiting to be retried.
 */
export async function kickOnNewVersion(ctx: AppContext, version: number): Promise<void> {
  const last = lastKick.get(ctx);
  if (last && last.version === version && Date.now() - last.at < KICK_ANYWAY_MS) return;
  await kickSubscriberMail(ctx);
  lastKick.set(ctx, { version, at: Date.now() });
}
