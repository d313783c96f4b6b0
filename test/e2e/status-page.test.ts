import type { Browser } from 'playwright-core';
import { startTestPortal, type TestPortal } from '../support/portal';
import { launchBrowser, artifact } from '../support/browser';
import * as service from '../../src/features/notice/service';
import { parseNoticeInput } from '../../src/features/notice/schema';
import { tokyoDay } from '../../src/http/tokyo-time';

const actor = { label: 'test:e2e', userId: null };
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
const TEXT = {
  ja: { noIncidents: '過去90日間に障害はありませんでした', title: 'ログインできない障害' },
  en: { noIncidents: 'No incidents in the past 90 days', title: 'Sign-in fails' },
} as const;

/** The status page during an ongoing critical incident: truthful, fits a phone, and each day of the strip opens that day. */
describe('the status page during an ongoing critical incident, in headless Chromium', () => {
  let portal: TestPortal;
  let browser: Browser;
  let base: string;
  const today = tokyoDay(new Date());

  beforeAll(async () => {
    portal = await startTestPortal();
    base = await portal.listen();
    browser = await launchBrowser();
    const parsed = parseNoticeInput({
      kind: 'incident', severity: 'critical', title_ja: TEXT.ja.title, title_en: TEXT.en.title,
      body_ja: '調査中です。詳細: https://toybox.example/some/very/long/path/that/keeps/going/and/going/without/any/break/at/all/0123456789',
      body_en: 'Investigating. Details: https://toybox.example/some/very/long/path/that/keeps/going/and/going/without/any/break/at/all/0123456789',
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
      it(`never claims a quiet 90 days, fits the screen and shows today's red day (${lang}, ${name})`, async () => {
        const context = await browser.newContext({ viewport, javaScriptEnabled: false });
        const page = await context.newPage();
        await page.goto(`${base}/status?lang=${lang}`);
        const text = await page.locator('main').innerText();
        expect(text).toContain(TEXT[lang].title);
        expect(text).not.toContain(TEXT[lang].noIncidents);
        expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
        const day = page.locator(`.notice-day[data-day="${today}"]`);
        expect(await day.getAttribute('class')).toContain('notice-day-critical');
        const box = (await day.boundingBox())!;
        expect(box.width).toBeGreaterThanOrEqual(name === 'phone' ? 18 : 4); // a tappable square on a phone
        expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
        // today's mark is really painted there, not clipped by its list
        const clipped = await day.evaluate((el) => {
          const r = el.getBoundingClientRect();
          const list = el.parentElement!.getBoundingClientRect();
          return r.right > list.right + 0.5 || r.bottom > list.bottom + 0.5;
        });
        expect(clipped).toBe(false);
        await page.screenshot({ path: artifact(`status-ongoing-${lang}-${name}.png`), fullPage: true });

        // without JavaScript, today's mark opens what happened today
        await day.locator('a').click();
        await page.waitForURL(`**/status/day/${today}*`);
        expect(await page.locator('main').innerText()).toContain(TEXT[lang].title);
        expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
        await page.screenshot({ path: artifact(`status-day-${lang}-${name}.png`), fullPage: true });
        await context.close();
      });
    }
  }

  it('answers 404 with a message for a day outside the 90 days or not a date', async () => {
    const res = await fetch(`${base}/status/day/2001-01-01?lang=en`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('Choose a day within the past 90 days.');
    expect((await fetch(`${base}/status/day/2026-02-31`)).status).toBe(404);
    expect((await fetch(`${base}/status/day/nonsense`)).status).toBe(404);
  });

  it('says a quiet day was quiet', async () => {
    const quiet = tokyoDay(new Date(Date.now() - 30 * 86_400_000));
    const html = await fetch(`${base}/status/day/${quiet}?lang=en`).then((r) => r.text());
    expect(html).toContain('No incidents or maintenance on this day.');
  });
});
