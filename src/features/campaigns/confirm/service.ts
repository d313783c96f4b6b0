import type { Knex } from 'knex';
import type { Campaign } from '../lifecycle/repo';
import { countEligibleAddresses, countRecipients } from '../lifecycle/repo';

export interface SendPlan {
  /** Messages that will go out. */
  recipients: number;
  /** Messages per minute (0: as fast as the mail server takes them). */
  ratePerMinute: number;
  /** When the last one should leave at that rate; null without a limit. */
  endsAt: Date | null;
}

/** What "start sending" will do, for its confirmation page: how many, how fast, until when. */
export async function planSending(knex: Knex, c: Campaign, now = new Date()): Promise<SendPlan> {
  // a draft takes its recipients when it starts; a scheduled campaign already has them
  const recipients = c.status === 'draft' ? await countEligibleAddresses(knex) : (await countRecipients(knex, c.id)).queued;
  const rate = c.rate_per_minute;
  const endsAt = rate > 0 ? new Date(now.getTime() + Math.ceil(recipients / rate) * 60_000) : null;
  return { recipients, ratePerMinute: rate, endsAt };
}

/** What "cancel" will stop, for its confirmation page. */
export async function planCancel(knex: Knex, c: Campaign): Promise<{ sent: number; unsent: number; draft: boolean }> {
  const counts = await countRecipients(knex, c.id);
  return { sent: counts.sent, unsent: counts.queued + counts.sending, draft: c.status === 'draft' };
}
