import type { Knex } from 'knex';
import { recordAudit } from '../../../audit/service';
import { compileSet, type TemplateFieldError } from './template';
import {
  insertCampaign,
  addRecipients,
  findCampaign,
  lockCampaign,
  startDue,
  makeQueuedDue,
  transition,
  requeueFailed,
  countRecipients,
  listCampaigns,
  recentRate,
  updateCampaignFields,
  type Campaign,
  type CampaignFields,
  type CampaignStatus,
  type StatusCounts,
} from './repo';

export interface CampaignInput {
  name: string;
  subject_ja: string;
  text_ja: string;
  html_ja?: string | null;
  subject_en?: string | null;
  text_en?: string | null;
  html_en?: string | null;
  rate_per_minute?: number;
  concurrency?: number;
  pause_after_failures?: number;
  max_attempts?: number;
}

export class CampaignInvalid extends Error {
  constructor(public readonly errors: Array<TemplateFieldError & { lang: 'ja' | 'en' }>) {
    super(errors.map((e) => `${e.field}_${e.lang}: ${e.code}${e.detail ? ` (${e.detail})` : ''}`).join('; '));
  }
}

export class CampaignStateError extends Error {
  constructor(
    public readonly status: CampaignStatus,
    action: string,
  ) {
    super(`cannot ${action} a campaign that is ${status}`);
  }
}

/** Rejects a template that uses an unknown variable, has an unclosed brace or lacks the personal link. */
export function validateTemplates(input: CampaignInput): void {
  const errors: CampaignInvalid['errors'] = [];
  for (const e of compileSet({ subject: input.subject_ja, text: input.text_ja, html: input.html_ja }).errors) errors.push({ ...e, lang: 'ja' });
  if (input.subject_en || input.text_en || input.html_en) {
    for (const e of compileSet({ subject: input.subject_en ?? '', text: input.text_en ?? '', html: input.html_en }).errors) errors.push({ ...e, lang: 'en' });
  }
  if (errors.length) throw new CampaignInvalid(errors);
}

function fields(input: CampaignInput, actor: string): CampaignFields {
  const blank = (s: string | null | undefined) => (s && s.trim() ? s : null);
  return {
    name: input.name,
    subject_ja: input.subject_ja,
    text_ja: input.text_ja,
    html_ja: blank(input.html_ja),
    subject_en: blank(input.subject_en),
    text_en: blank(input.text_en),
    html_en: blank(input.html_en),
    rate_per_minute: input.rate_per_minute ?? 60,
    concurrency: input.concurrency ?? 2,
    pause_after_failures: input.pause_after_failures ?? 10,
    max_attempts: input.max_attempts ?? 5,
    created_by: actor,
  };
}

/** Creates a draft campaign with every imported, non-suppressed address as a recipient. */
export async function createCampaign(knex: Knex, input: CampaignInput, actor: string): Promise<{ id: number; recipients: number }> {
  validateTemplates(input);
  return knex.transaction(async (trx) => {
    const id = await insertCampaign(trx, fields(input, actor));
    const recipients = await addRecipients(trx, id);
    await recordAudit(trx, actor, 'campaigns.create', `campaign:${id}`, { name: input.name, recipients });
    return { id, recipients };
  });
}

/** Edits a draft's templates and settings; recipients are refreshed with addresses imported since. */
export async function updateDraft(knex: Knex, id: number, input: CampaignInput, actor: string): Promise<void> {
  validateTemplates(input);
  await knex.transaction(async (trx) => {
    const c = await lockCampaign(trx, id);
    if (!c) throw new CampaignStateError('cancelled', 'edit');
    if (c.status !== 'draft') throw new CampaignStateError(c.status, 'edit');
    const { created_by: _ignored, ...rest } = fields(input, actor);
    await updateCampaignFields(trx, id, rest);
    await addRecipients(trx, id);
    await recordAudit(trx, actor, 'campaigns.update', `campaign:${id}`, { name: input.name });
  });
}

/** Every campaign, newest first, with its recipients counted per state (the admin's list). */
export async function listCampaignsWithCounts(knex: Knex): Promise<Array<Campaign & { counts: StatusCounts }>> {
  const campaigns = await listCampaigns(knex);
  const counts = await Promise.all(campaigns.map((c) => countRecipients(knex, c.id)));
  return campaigns.map((c, i) => ({ ...c, counts: counts[i]! }));
}

export async function getCampaign(knex: Knex, id: number): Promise<Campaign | undefined> {
  return findCampaign(knex, id);
}

/**
 * Lock, check, change, audit in one transaction: `alongside` (adding recipients, making
 * retries due) runs only once the state allows the move, so a refused move changes nothing.
 */
async function move(
  knex: Knex,
  id: number,
  from: CampaignStatus[],
  to: CampaignStatus,
  action: string,
  actor: string,
  extra: Record<string, unknown> = {},
  alongside?: (trx: Knex.Transaction, c: Campaign) => Promise<unknown>,
) {
  await knex.transaction(async (trx) => {
    const c = await lockCampaign(trx, id);
    if (!c) throw new CampaignStateError('cancelled', action);
    if (c.status === to && to !== 'scheduled') return;
    if (!from.includes(c.status)) throw new CampaignStateError(c.status, action);
    await alongside?.(trx, c);
    await transition(trx, id, from, to, extra);
    await recordAudit(trx, actor, `campaigns.${action}`, `campaign:${id}`, {});
  });
}

/** draft/scheduled -> sending. New addresses imported since creation join before the first message goes out. */
export async function startSending(knex: Knex, id: number, actor: string): Promise<void> {
  await move(knex, id, ['draft', 'scheduled'], 'sending', 'send', actor, { started_at: knex.fn.now() }, (trx, c) =>
    c.status === 'draft' ? addRecipients(trx, id) : Promise.resolve(),
  );
}

/** draft -> scheduled: the server's worker starts it at `at` (checked every 30 s). */
export async function scheduleCampaign(knex: Knex, id: number, at: Date, actor: string): Promise<void> {
  await move(knex, id, ['draft', 'scheduled'], 'scheduled', 'schedule', actor, { scheduled_at: at }, (trx) => addRecipients(trx, id));
}

/** Scheduled campaigns whose time has come move to sending; returns their ids. */
export async function startDueCampaigns(knex: Knex): Promise<number[]> {
  return startDue(knex);
}

export const pauseCampaign = (knex: Knex, id: number, actor: string) =>
  move(knex, id, ['sending', 'scheduled'], 'paused', 'pause', actor, { pause_reason: `paused by ${actor}` });

/**
 * Resumes from where it stopped: the failure streak is forgotten and rows
 * waiting out a retry backoff become due now (the operator has fixed the cause).
 */
export async function resumeCampaign(knex: Knex, id: number, actor: string): Promise<void> {
  await move(knex, id, ['paused'], 'sending', 'resume', actor, { pause_reason: null, consecutive_failures: 0 }, (trx) => makeQueuedDue(trx, id));
}

export const cancelCampaign = (knex: Knex, id: number, actor: string) =>
  move(knex, id, ['draft', 'scheduled', 'sending', 'paused'], 'cancelled', 'cancel', actor, { finished_at: knex.fn.now() });

/** A new pass over failed recipients only; the campaign goes back to sending if it had finished. */
export async function retryFailed(knex: Knex, id: number, actor: string): Promise<number> {
  return knex.transaction(async (trx) => {
    const c = await lockCampaign(trx, id);
    if (!c || c.status === 'cancelled' || c.status === 'draft') throw new CampaignStateError(c?.status ?? 'cancelled', 'retry');
    const n = await requeueFailed(trx, id);
    if (n > 0 && c.status === 'completed') await transition(trx, id, ['completed'], 'sending', { finished_at: null, consecutive_failures: 0 });
    await recordAudit(trx, actor, 'campaigns.retry_failed', `campaign:${id}`, { requeued: n });
    return n;
  });
}

export interface CampaignProgress extends StatusCounts {
  status: CampaignStatus;
  pause_reason: string | null;
  remaining: number;
  per_minute: number;
  eta_seconds: number | null;
}

/**
 * Messages per minute, from the sends of the last minute over the time the
 * campaign has actually been sending in that minute (counting a 10-second-old
 * campaign's sends against a whole minute made the ETA six times too long),
 * and never above the campaign's own limit.
 */
export function liveRate(sentLastMinute: number, sendingForSeconds: number, limitPerMinute: number): number {
  const window = Math.min(60, Math.max(5, sendingForSeconds));
  const measured = (sentLastMinute / window) * 60;
  return Math.round(limitPerMinute > 0 ? Math.min(measured, limitPerMinute) : measured);
}

/** Counts per recipient state with the live rate and an ETA (only while sending). */
export async function campaignProgress(knex: Knex, c: Campaign, now = new Date()): Promise<CampaignProgress> {
  const [counts, sentLastMinute] = await Promise.all([countRecipients(knex, c.id), recentRate(knex, c.id)]);
  const left = counts.queued + counts.sending;
  const sendingFor = c.started_at ? (now.getTime() - c.started_at.getTime()) / 1000 : 60;
  const perMinute = c.status === 'sending' ? liveRate(sentLastMinute, sendingFor, c.rate_per_minute) : 0;
  return {
    status: c.status,
    pause_reason: c.pause_reason,
    ...counts,
    remaining: left,
    per_minute: perMinute,
    eta_seconds: c.status === 'sending' && perMinute > 0 && left > 0 ? Math.ceil((left / perMinute) * 60) : null,
  };
}
