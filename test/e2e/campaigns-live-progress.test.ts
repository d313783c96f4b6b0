import type { Page } from 'playwright-core';
import { usePortal } from '../support/portal-stack';
import { artifact } from '../support/browser';
import { buildUser } from '../support/factories';
import { feature } from '../../src/features/campaigns';
import { importCandidates } from '../../src/features/campaigns/addresses/service';
import { createCampaign } from '../../src/features/campaigns/lifecycle/service';
import { liveRate } from '../../src/features/campaigns/lifecycle/service';

/**
 * The campaign page is opened once, the sending is started from it, and the
 * page is watched until the end without a reload: every number, the ETA, the
 * offered actions and the notices must match the finished campaign.
 */
describe('live campaign page in headless Chromium, against a real SMTP server', () => {
  const web = usePortal({ smtp: true, background: [feature], browser: true });

  it('measures the rate over the time actually spent sending', () => {
    expect(liveRate(10, 10, 0)).toBe(60); // 10 sent in the first 10 s is 60/min, not 10/min
    expect(liveRate(120, 600, 0)).toBe(120);
    expect(liveRate(50, 20, 60)).toBe(60); // never above the campaign's limit
  });

  async function signIn(page: Page, login: string, password: string) {
    await page.goto(`${web.base}/login`);
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill(password);
    await page.locator('form button[type="submit"]').first().click();
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  }

  it.each([
    ['ja', 'desktop', { width: 1280, height: 800 }, '完了'],
    ['en', 'phone', { width: 390, height: 844 }, 'Completed'],
  ] as const)('%s %s: progress stays true until completion without a reload', async (lang, device, viewport, completedLabel) => {
    await web.portal.ctx.knex.raw('TRUNCATE portal.addresses, portal.campaigns, portal.campaign_recipients');
    const admin = await buildUser(web.portal.ctx.knex, { is_staff: true });
    const people = Array.from({ length: 7 }, (_, i) => `live-${lang}-${i}@example.jp`);
    await importCandidates(web.portal.ctx.knex, people.map((raw, i) => ({ line: i + 1, raw, lang: null, name: null })), 'test');
    const { id } = await createCampaign(
      web.portal.ctx.knex,
      { name: `live ${lang}`, subject_ja: '再登録のお願い', text_ja: '{{display_name}} 様\n{{link}}\n', rate_per_minute: 60, concurrency: 1 },
      'test',
    );
    const page = await web.browser.newPage({ locale: lang === 'ja' ? 'ja-JP' : 'en-US', viewport });
    await signIn(page, admin.display_id, admin.password);
    await page.goto(`${web.base}/admin/campaigns/${id}?lang=${lang}`);
    let reloads = 0;
    page.on('framenavigated', (f) => f === page.mainFrame() && (reloads += 1));
    const sendButton = page.locator(`form[action="/admin/campaigns/${id}/send"] button`);
    await sendButton.click();
    // The confirmation step (how many people, the rate, when it ends), then its one button.
    await page.locator('form:has(input[name="confirm"][value="1"]) button[type="submit"]').click();
    await page.waitForURL(new RegExp(`/admin/campaigns/${id}\\?notice=send`));
    reloads = 0;

    // While sending: the ETA is minutes and a clock time in Japan time, never raw seconds.
    await page.waitForFunction(() => Number(document.querySelector('[data-field="sent"]')?.textContent) >= 1, undefined, { timeout: 30_000 });
    const eta = await page.locator('[data-field="eta_text"]').textContent();
    expect(eta).toMatch(lang === 'ja' ? /^約 \d+ 分 \/ \d\d:\d\d JST 頃に完了$/ : /^about \d+ min, done around \d\d:\d\d JST$/);
    await expect(page.locator('[data-shown-while]').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: artifact(`campaigns-live-${lang}-${device}-sending.png`), fullPage: true });

    await page.waitForFunction((label) => document.getElementById('campaign-status')?.textContent === label, completedLabel, { timeout: 60_000 });
    expect(reloads).toBe(0);
    expect(web.sink.messages.filter((m) => m.envelopeTo[0]!.startsWith(`live-${lang}-`))).toHaveLength(7);

    const field = (name: string) => page.locator(`[data-field="${name}"]`).first().textContent();
    await expect(field('sent')).resolves.toBe('7');
    await expect(field('remaining')).resolves.toBe('0');
    await expect(field('funnel_sent')).resolves.toBe('7');
    await expect(field('funnel_sent_pct')).resolves.toBe('100.0');
    await expect(field('percent_done')).resolves.toBe('100');
    await expect(field('eta_text')).resolves.toBe('-');
    await expect(page.locator('#progress-bar').evaluate((b: HTMLProgressElement) => [b.value, b.max])).resolves.toEqual([7, 7]);
    // Only what a finished campaign allows is offered; the "sending started" notice is gone.
    for (const action of ['pause', 'cancel', 'send', 'resume']) {
      await expect(page.locator(`form[action="/admin/campaigns/${id}/${action}"]`).isVisible()).resolves.toBe(false);
    }
    await expect(page.locator('[data-shown-while]').isVisible()).resolves.toBe(false);
    await page.screenshot({ path: artifact(`campaigns-live-${lang}-${device}-completed.png`), fullPage: true });

    // What the live page shows is what a fresh load shows.
    await page.reload();
    await expect(field('funnel_sent_pct')).resolves.toBe('100.0');
    await expect(page.locator(`form[action="/admin/campaigns/${id}/cancel"]`).isVisible()).resolves.toBe(false);
    await page.close();
  }, 120_000);
});
