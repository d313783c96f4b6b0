import type { Browser } from 'playwright-core';
import { launchBrowser, artifact } from '../support/browser';
import { parseConfig, withSessionSecret } from '../../src/config';
import { renderEmail } from '../../src/mail/render';
import { EMAILS } from '../../src/mail/definitions';
import { translator } from '../../src/i18n';
import { buildMessage, prepareCampaign } from '../../src/features/campaigns/sending/message';
import type { Campaign } from '../../src/features/campaigns/lifecycle/repo';

const PUBLIC_URL = 'https://portal.toybox.example';
// A realistic signed link: long enough to push a phone layout sideways if it is printed as it is.
const LONG_URL = `${PUBLIC_URL}/export/link/${'eyJ1IjoxMjM0NSwiZXhwIjoxNzY5MDk5NDAwfQ'.repeat(3)}.c2lnbmF0dXJlLW9mLXRoZS1saW5r`;
const en = translator('en');
const alert = { condition: 'backup_failed', raised_at: new Date('2026-01-22T15:30:00Z'), details: { backup_id: 7, error: 'pg_dump: error: connection refused' } };
const alertLocals = { alert, kind: 'backup_failed', vars: { backup_id: '7', error: 'pg_dump: error: connection refused' }, en, publicUrl: PUBLIC_URL };

interface Rendered { name: string; html: string; text: string; link: string; buttonLabel: string }

/** Each e-mail the portal sends, rendered the way its sender renders it. */
async function renderAll(): Promise<Rendered[]> {
  const out: Rendered[] = [];
  for (const lang of ['ja', 'en'] as const) {
    const t = translator(lang);
    const link = await renderEmail(EMAILS.exportLink.template, lang, { url: LONG_URL, minutes: 15, displayId: 'hanako_01' });
    out.push({ name: `export-link-${lang}`, ...link, link: LONG_URL, buttonLabel: t('export.email_link_button') });
    const ready = await renderEmail(EMAILS.exportReady.template, lang, {
      url: LONG_URL, expires: '2026-01-30 00:30 JST', displayId: 'hanako_01', size: 123456789, sha256: 'ab'.repeat(32),
    });
    out.push({ name: `export-ready-${lang}`, ...ready, link: LONG_URL, buttonLabel: t('export.email_ready_button') });

    const config = withSessionSecret(parseConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgres://x@127.0.0.1/x', PUBLIC_URL, LOG_LEVEL: 'silent' }));
    const campaign = {
      id: 42, name: 're-registration', subject_ja: 'TOYBOX 再登録のお願い', text_ja: '{{display_name}} 様\n\nこちらから登録し直してください: {{link}}\n\nよろしくお願いします。',
      html_ja: null, subject_en: 'Please sign up to TOYBOX again', text_en: 'Dear {{display_name}},\n\nPlease sign up again here: {{link}}\n\nThank you.', html_en: null,
    } as unknown as Campaign;
    const msg = buildMessage(config, prepareCampaign(campaign), { id: 9, email: 'hanako@example.jp', display_id: 'hanako_01', name: '花子', lang, message_id: null });
    const personal = /https:\/\/portal\.toybox\.example\/r\/\S+/.exec(String(msg.text))![0];
    out.push({ name: `campaign-${lang}`, html: String(msg.html), text: String(msg.text), link: personal, buttonLabel: t('mail.campaign_button') });

    const confirmUrl = `${PUBLIC_URL}/status/subscribe/confirm/${'c'.repeat(60)}`;
    const confirm = await renderEmail(EMAILS.noticeConfirm.template, lang, { confirmUrl, statusUrl: `${PUBLIC_URL}/status` });
    out.push({ name: `notice-confirm-${lang}`, ...confirm, link: confirmUrl, buttonLabel: t('notice.subscribe.mail_confirm_button') });
    const statusUrl = `${PUBLIC_URL}/status?lang=${lang}`;
    const update = await renderEmail(EMAILS.noticeUpdate.template, lang, {
      title: 'データ消失のお詫び', state: t('notice.state.investigating'), at: new Date('2026-01-22T15:30:00Z'),
      bodyHtml: '<p>復旧作業中です。</p>', bodyText: '復旧作業中です。', statusUrl, unsubscribeUrl: `${PUBLIC_URL}/status/unsubscribe/${'u'.repeat(60)}`,
    });
    out.push({ name: `notice-update-${lang}`, ...update, link: statusUrl, buttonLabel: t('notice.subscribe.mail_update_button') });
    const proofUrl = `${PUBLIC_URL}/recover/email/${'p'.repeat(43)}`;
    const proof = await renderEmail(EMAILS.claimsEmailConfirm.template, lang, { url: proofUrl, minutes: 60, displayId: 'hanako_01' });
    out.push({ name: `claims-email-confirm-${lang}`, ...proof, link: proofUrl, buttonLabel: t('claims.email.mail_button') });
    const inviteUrl = `${PUBLIC_URL}/recover/invitation/${'i'.repeat(43)}`;
    const invite = await renderEmail(EMAILS.claimsInvitation.template, lang, { url: inviteUrl, days: 14, displayId: 'neko', toyboxUrl: 'https://toybox.example' });
    out.push({ name: `claims-invitation-${lang}`, ...invite, link: inviteUrl, buttonLabel: t('claims.invite.mail_button') });
  }
  const ja = translator('ja');
  for (const state of ['raised', 'cleared'] as const) {
    const m = await renderEmail(`alert-${state}`, 'ja', alertLocals);
    out.push({ name: `alert-${state}`, ...m, link: `${PUBLIC_URL}/admin/backups`, buttonLabel: ja('backups.mail.open_admin') });
  }
  const test = await renderEmail(EMAILS.alertTest.template, 'ja', { en, publicUrl: PUBLIC_URL, sentAt: alert.raised_at, actor: 'admin_01' });
  out.push({ name: 'alert-test', ...test, link: `${PUBLIC_URL}/admin/recovery`, buttonLabel: ja('backups.test_alert.confirm') });
  return out;
}

describe('every e-mail reads well on a phone', () => {
  let browser: Browser;
  let mails: Rendered[];
  beforeAll(async () => {
    browser = await launchBrowser();
    mails = await renderAll();
  });
  afterAll(() => browser?.close());

  it('covers every e-mail definition', () => {
    const templates = new Set(mails.map((m) => m.name.replace(/-(ja|en)$/, '')));
    for (const d of Object.values(EMAILS)) expect(templates).toContain(d.template.replace('-message', ''));
  });

  it('the HTML part fits 390 px, with a viewport and a visible button for the main link', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
    for (const m of mails) {
      expect(m.html).toMatch(/<meta name="viewport" content="width=device-width, initial-scale=1">/);
      await page.setContent(m.html);
      const overflow = await page.evaluate(() => document.scrollingElement!.scrollWidth - window.innerWidth);
      expect({ mail: m.name, overflow }).toEqual({ mail: m.name, overflow: 0 });
      const button = page.locator('a.mail-button').first();
      await expect(button.textContent()).resolves.toBe(m.buttonLabel);
      await expect(button.getAttribute('href')).resolves.toBe(m.link);
      const box = (await button.boundingBox())!;
      expect(box.width).toBeGreaterThan(120);
      expect(box.height).toBeGreaterThanOrEqual(44); // a thumb-sized target
      expect(box.x + box.width).toBeLessThanOrEqual(390);
      // The raw address is there too, small, for copying; it wraps instead of widening the page.
      await expect(page.locator('a.mail-url').first().textContent()).resolves.toBe(m.link);
      await page.screenshot({ path: artifact(`email-${m.name}-390.png`), fullPage: true });
    }
    await page.close();
  });

  it('the text part has the link on a line of its own', () => {
    for (const m of mails) {
      const lines = m.text.split(/\r?\n/);
      expect({ mail: m.name, own: lines.includes(m.link) }).toEqual({ mail: m.name, own: true });
    }
  });

  it('the campaign body keeps its words and puts the button where {{link}} was', async () => {
    const m = mails.find((x) => x.name === 'campaign-ja')!;
    expect(m.text).toMatch(/花子 様\n\nこちらから登録し直してください:\nhttps:\/\/portal\.toybox\.example\/r\/\S+\n\nよろしくお願いします。/);
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.setContent(m.html);
    const order = await page.evaluate(() => {
      const body = document.querySelector('.mail-body')!.textContent!;
      return [body.indexOf('登録し直してください'), body.indexOf('TOYBOX に登録し直す'), body.indexOf('よろしくお願いします')];
    });
    expect(order[0]).toBeGreaterThanOrEqual(0);
    expect(order[0]).toBeLessThan(order[1]!);
    expect(order[1]).toBeLessThan(order[2]!);
    await page.close();
  });
});
