import type { Browser } from 'playwright-core';
import { startTestPortal, type TestPortal } from '../support/portal';
import { launchBrowser, artifact } from '../support/browser';
import * as service from '../../src/features/notice/service';
import { parseNoticeInput } from '../../src/features/notice/schema';
import { formatJst, formatTokyo, toTokyoInput, tokyoDay } from '../../src/i18n/tokyo-time';

const actor = { label: 'test:e2e', userId: null };
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

/** The incident start time typed in the form (two days ago, Japan time) is what the status page, the strip, the feed and the banner show. */
describe('an incident start time typed in the form, in headless Chromium', () => {
  let portal: TestPortal;
  let browser: Browser;
  let base: string;
  const started = new Date(Math.floor((Date.now() - 2 * 86_400_000) / 60_000) * 60_000);

  beforeAll(async () => {
    portal = await startTestPortal();
    base = await portal.listen();
    browser = await launchBrowser();
    const parsed = parseNoticeInput({
      kind: 'incident', severity: 'critical', starts_at: toTokyoInput(started),
      title_ja: '画像が表示されない', title_en: 'Images do not load', body_ja: '調査中です。', body_en: 'Investigating.',
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    await service.createNotice(portal.ctx, parsed.value, actor, { publish: true });
  });
  afterAll(async () => {
    await browser?.close();
    await portal?.close();
  });

  for (const lang of ['ja', 'en'] as const) {
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      it(`shows the typed start, not the publish time (${lang}, ${name})`, async () => {
        const page = await browser.newPage({ viewport });
        await page.goto(`${base}/status?lang=${lang}`);
        const entry = page.locator('article.notice-entry').first();
        const began = entry.locator('p.hint time').first();
        expect(await began.getAttribute('datetime')).toBe(started.toISOString());
        expect(await began.textContent()).toBe(formatJst(started));
        // the strip is red from the day it began, not only from today
        const startDay = page.locator(`.notice-day[data-day="${tokyoDay(started)}"]`);
        expect(await startDay.getAttribute('class')).toContain('notice-day-critical');
        await page.screenshot({ path: artifact(`status-start-time-${lang}-${name}.png`), fullPage: true });
        await page.close();
      });
    }
  }

  it('gives the feed entry and the banner the typed start', async () => {
    const feed = await fetch(`${base}/status.atom`).then((r) => r.text());
    expect(feed).toContain(`<published>${started.toISOString()}</published>`);
    const api = await fetch(`${base}/api/notice`).then((r) => r.json());
    expect(api.notices[0].when.ja).toBe(`発生: ${formatTokyo(started, 'ja')}（日本時間）`);
    expect(api.notices[0].when.en).toBe(`Started ${formatTokyo(started, 'en')} (Japan time)`);
  });
});
