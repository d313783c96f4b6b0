import type { Browser } from 'playwright-core';
import { startTestPortal, type TestPortal } from '../support/portal';
import { launchBrowser, artifact } from '../support/browser';
import * as service from '../../src/features/notice/service';
import { parseNoticeInput } from '../../src/features/notice/schema';
import { tokyoDay } from '../../src/i18n/tokyo-time';

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
    // a malformed day (checked by the route's schema through validate()) says the same, in the reader's language
    for (const bad of ['2026-02-31', 'nonsense', '2026-1-5', `${'9'.repeat(300)}`]) {
      const r = await fetch(`${base}/status/day/${bad}?lang=en`);
      expect(r.status).toBe(404);
      expect(await r.text()).toContain('Choose a day within the past 90 days.');
    }
  });

  it('says a quiet day was quiet', async () => {
    const quiet = tokyoDay(new Date(Date.now() - 30 * 86_400_000));
    const html = await fetch(`${base}/status/day/${quiet}?lang=en`).then((r) => r.text());
    expect(html).toContain('No incidents or maintenance on this day.');
  });
});

/** Components (Statuspage style): each part of TOYBOX with its own state, in words as well as colour. */
describe('the status page lists components with their own states', () => {
  let portal: TestPortal;
  let browser: Browser;
  let base: string;
  beforeAll(async () => {
    portal = await startTestPortal();
    base = await portal.listen();
    browser = await launchBrowser();
    const incident = parseNoticeInput({ kind: 'incident', severity: 'critical', components: ['sign_in'], title_ja: 'ログインできない', title_en: 'Sign-in fails', body_ja: '調査中', body_en: 'Investigating' });
    const works = parseNoticeInput({ kind: 'maintenance', severity: 'info', state: 'in_progress', components: ['uploads'], title_ja: '投稿の保守', title_en: 'Upload maintenance', body_ja: '作業中', body_en: 'Working', starts_at: '2026-12-01T02:00', ends_at: '2030-12-01T04:00' });
    if (!incident.ok || !works.ok) throw new Error('bad notices');
    await service.createNotice(portal.ctx, incident.value, actor, { publish: true });
    await service.createNotice(portal.ctx, works.value, actor, { publish: true });
  });
  afterAll(async () => {
    await browser?.close();
    await portal?.close();
  });

  const expected = {
    ja: { sign_in: '重大な障害', uploads: 'メンテナンス中', site: '正常', cards: '正常', portal: '正常' },
    en: { sign_in: 'Major outage', uploads: 'Under maintenance', site: 'Operational', cards: 'Operational', portal: 'Operational' },
  } as const;
  for (const lang of ['ja', 'en'] as const) {
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      it(`shows each component's state (${lang}, ${name})`, async () => {
        const page = await browser.newPage({ viewport });
        await page.goto(`${base}/status?lang=${lang}`);
        for (const [id, state] of Object.entries(expected[lang])) {
          expect(await page.locator(`[data-component="${id}"] .notice-component-state`).innerText()).toBe(state);
        }
        expect(await page.locator('[data-component="sign_in"] a').innerText()).toBe(lang === 'ja' ? 'ログインできない' : 'Sign-in fails');
        expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
        await page.locator('#components-heading').scrollIntoViewIfNeeded();
        await page.screenshot({ path: artifact(`status-components-${lang}-${name}.png`), fullPage: true });
        await page.close();
      });
    }
  }
});
