import type { AppContext } from '../../../app-context';
import { translator, type Lang } from '../../../i18n';
import { recordAudit } from '../../../audit/service';
import { buildMessage, prepareCampaign, type MessageRecipient } from './message';
import type { Campaign } from '../lifecycle/repo';
import { getCampaign } from '../lifecycle/service';

/** A real recipient of the campaign in that language when there is one, otherwise a labelled sample person. */
async function sampleRecipient(ctx: AppContext, c: Campaign, lang: Lang): Promise<MessageRecipient> {
  const row = await ctx.knex('portal.campaign_recipients')
    .where({ campaign_id: c.id })
    .orderByRaw('(lang = ?) DESC, id', [lang])
    .first('id', 'email', 'display_id', 'name');
  if (row) return { id: Number(row.id), email: row.email, display_id: row.display_id, name: row.name, lang, message_id: null };
  return { id: 0, email: 'sample@example.com', display_id: 'sample_user', name: translator(lang)('campaigns.preview.sample_name'), lang, message_id: null };
}

/** Renders exactly what a recipient would receive (both parts and the headers that matter). */
export async function previewMessage(ctx: AppContext, c: Campaign, lang: Lang) {
  const r = await sampleRecipient(ctx, c, lang);
  const msg = buildMessage(ctx.config, prepareCampaign(c), { ...r, message_id: `<campaign-${c.id}.${r.id}@preview>` });
  return {
    to: r.email,
    subject: String(msg.subject),
    text: String(msg.text),
    html: String(msg.html),
    headers: msg.headers as Record<string, string>,
  };
}

/**
 * The queued test message (src/jobs/registry.ts: campaigns.test-send): the message for a sample recipient to
 * the admin who asked, marked as a test; the campaign is untouched. A failed send throws, so the queue retries it.
 */
export async function sendTestMessage(ctx: AppContext, campaignId: number, lang: Lang, to: string, actor: string): Promise<void> {
  const c = await getCampaign(ctx.knex, campaignId);
  if (!c) return; // deleted since: nothing to test
  const r = await sampleRecipient(ctx, c, lang);
  const msg = buildMessage(ctx.config, prepareCampaign(c), { ...r, id: 0, message_id: null }, to);
  await ctx.mailer.send({ ...msg, subject: `[TEST] ${String(msg.subject)}` });
  await recordAudit(ctx.knex, actor, 'campaigns.test_send', `campaign:${c.id}`, { lang });
}
