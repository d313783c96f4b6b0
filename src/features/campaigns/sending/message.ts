import type { Config } from '../../../config';
import type { MailMessage } from '../../../mail/mailer';
import { compiledEmail } from '../../../mail/send';
import { emailLayout } from '../../../mail/layout';
import { translator, type Lang } from '../../../i18n';
import { compileSet, renderCompiled, textToHtml, type CompiledSet, type TemplateValues } from '../lifecycle/template';
import { signLink } from '../links/signed-links';
import type { Campaign } from '../lifecycle/repo';

// Stands in for the personal link while the body is laid out; cannot occur in a template or a URL.
const LINK_MARK = '\u0000link\u0000';
const TEXT_BEFORE_LINK = new RegExp(`([^\\n])[ \\t]*${LINK_MARK}`, 'g');
const TEXT_AFTER_LINK = new RegExp(`${LINK_MARK}[ \\t]*([^\\n])`, 'g');
const LINK_IN_HTML = new RegExp(`(?:<br>)?\\s*${LINK_MARK}\\s*(?:<br>)?`, 'g');

/** The text part with the personal link on a line of its own: phone mail apps make that line one tap. */
function textWithLinkOnOwnLine(text: string, link: string): string {
  return text
    .replace(TEXT_BEFORE_LINK, `$1\n${LINK_MARK}`)
    .replace(TEXT_AFTER_LINK, `${LINK_MARK}\n$1`)
    .split(LINK_MARK)
    .join(link);
}

/** A plain-text body as HTML, with the personal link as the layout's button where the text put it. */
function htmlWithButton(text: string, button: string): string {
  return textToHtml(text)
    .replace(LINK_IN_HTML, `</p>${button}<p>`)
    .replace(/<p>\s*<\/p>/g, '');
}

export interface MessageRecipient {
  id: number;
  email: string;
  display_id: string | null;
  name: string | null;
  lang: Lang;
  message_id: string | null;
}

/** A campaign's templates compiled once for all its messages (English falls back to Japanese when absent). */
export interface PreparedCampaign {
  campaign: Pick<Campaign, 'id' | 'name'>;
  sets: Record<Lang, CompiledSet>;
}

export function prepareCampaign(c: Campaign): PreparedCampaign {
  const ja = compileSet({ subject: c.subject_ja, text: c.text_ja, html: c.html_ja });
  if (!ja.compiled) throw new Error(`campaign ${c.id}: Japanese template invalid (${ja.errors.map((e) => `${e.field} ${e.code}`).join(', ')})`);
  const en = c.subject_en && c.text_en ? compileSet({ subject: c.subject_en, text: c.text_en, html: c.html_en }) : null;
  return { campaign: { id: c.id, name: c.name }, sets: { ja: ja.compiled, en: en?.compiled ?? ja.compiled } };
}

export function mailDomain(config: Config): string {
  const m = /@([^>\s]+)>?\s*$/.exec(config.MAIL_FROM);
  return (m?.[1] ?? 'toybox.local').toLowerCase();
}

export function personalLinks(config: Config, campaignId: number, recipientId: number) {
  return {
    link: `${config.PUBLIC_URL}/r/${signLink(config.SESSION_SECRET, 'r', campaignId, recipientId)}`,
    unsubscribeToken: signLink(config.SESSION_SECRET, 'u', campaignId, recipientId),
  };
}

/**
 * One recipient's message: chosen language, personal link, both parts, and
 * the bulk-sender headers (List-Unsubscribe https + mailto, RFC 8058
 * one-click). The Message-ID is the recipient row's, identical on every
 * attempt, so a resend after a crash is recognisable as the same message.
 */
export function buildMessage(config: Config, prepared: PreparedCampaign, r: MessageRecipient, to?: string): MailMessage {
  const lang: Lang = r.lang === 'en' ? 'en' : 'ja';
  const t = translator(lang);
  const set = prepared.sets[lang];
  const { link, unsubscribeToken } = personalLinks(config, prepared.campaign.id, r.id);
  const unsubscribeUrl = `${config.PUBLIC_URL}/u/${unsubscribeToken}`;
  const values: TemplateValues = {
    display_name: r.name ?? r.display_id ?? t('campaigns.email.default_name'),
    display_id: r.display_id ?? '',
    email: r.email,
    link,
    unsubscribe_link: unsubscribeUrl,
  };
  const subject = renderCompiled(set.subject, values).replace(/[\r\n]+/g, ' ');
  const marked = renderCompiled(set.text, { ...values, link: LINK_MARK });
  const bodyText = textWithLinkOnOwnLine(marked, link);
  // Compiled once per process: rendering from disk per message would dominate a 10k send.
  const l = compiledEmail('campaignMessage');
  const frame = emailLayout();
  const button = frame.button({ t, url: link, label: t('mail.campaign_button') });
  const bodyHtml = set.html ? renderCompiled(set.html, values, true) : htmlWithButton(marked, button);
  const locals = { lang, t, subject, bodyHtml, bodyText, unsubscribeUrl, layout: frame };
  const domain = mailDomain(config);
  return {
    from: config.MAIL_FROM,
    to: to ?? r.email,
    subject,
    text: l.text(locals),
    html: l.html(locals),
    messageId: r.message_id ?? undefined,
    headers: {
      'List-Unsubscribe': `<${unsubscribeUrl}>, <mailto:unsubscribe@${domain}?subject=unsubscribe%20${unsubscribeToken}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': `<campaign-${prepared.campaign.id}.${domain}>`,
      'Auto-Submitted': 'auto-generated',
    },
  };
}
