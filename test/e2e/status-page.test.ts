import { artifact } from '../support/browser';
import { formatJst, formatTokyo, toTokyoInput, tokyoDay } from '../../src/i18n/tokyo-time';
import { usePortal } from '../support/portal-stack';
import { addNotice } from '../support/notices';

const actor = { label: 'test:e2e', userId: null };
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
const TEXT = {
  ja: { noIncidents: '過去90日間に障害はありませんでした', title: 'ログインできない障害' },
  en: { noIncidents: 'No incidents in the past 90 days', title: 'Sign-in fails' },
} as const;

/** The status page during an ongoing critical incident: truthful, fits a phone, and each day of the strip opens that day. */
describe('the status page during an ongoing critical incident, in headless Chromium', () => {
  const web = usePortal({ browser: true });
  const today = tokyoDay(new Date());

  beforeAll(async () => {
    await addNotice(web.portal.ctx, {
      kind: 'incident', severity: 'critical', title_ja: TEXT.ja.title, title_en: TEXT.en.title,
      body_ja: '調査中です。詳細: https://toybox.example/some/very/long/path/that/keeps/going/and/going/without/any/break/at/all/0123456789',
      body_en: 'Investigating. Details: https://toybox.example/some/very/long/path/that/keeps/going/and/going/without/any/break/at/all/0123456789',
    }, { actor });
  });

  for (const lang of ['ja', 'en'] as const) {
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      it(`never claims a quiet 90 days, fits the screen and shows today's red day (${lang}, ${name})`, async () => {
        const context = await web.browser.newContext({ viewport, javaScriptEnabled: false });
        const page = await context.newPage();
        await page.goto(`${web.base}/status?lang=${lang}`);
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
    const res = await fetch(`${web.base}/status/day/2001-01-01?lang=en`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('Choose a day within the past 90 days.');
    // a malformed day (checked by the route's schema through validate()) says the same, in the reader's language
    for (const bad of ['2026-02-31', 'nonsense', '2026-1-5', `${'9'.repeat(300)}`]) {
      const r = await fetch(`${web.base}/status/day/${bad}?lang=en`);
      expect(r.status).toBe(404);
      expect(await r.text()).toContain('Choose a day within the past 90 days.');
    }
  });

  it('says a quiet day was quiet', async () => {
    const quiet = tokyoDay(new Date(Date.now() - 30 * 86_400_000));
    const html = await fetch(`${web.base}/status/day/${quiet}?lang=en`).then((r) => r.text());
    expect(html).toContain('No incidents or maintenance on this day.');
  });
});

/** Components (Statuspage style): each part of TOYBOX with its own state, in words as well as colour. */
describe('the status page lists components with their own states', () => {
  const web = usePortal({ browser: true });
  beforeAll(async () => {
    await addNotice(web.portal.ctx, { kind: 'incident', severity: 'critical', components: ['sign_in'], title_ja: 'ログインできない', title_en: 'Sign-in fails', body_ja: '調査中', body_en: 'Investigating' }, { actor });
    await addNotice(web.portal.ctx, { kind: 'maintenance', severity: 'info', state: 'in_progress', components: ['uploads'], title_ja: '投稿の保守', title_en: 'Upload maintenance', body_ja: '作業中', body_en: 'Working', starts_at: '2026-12-01T02:00', ends_at: '2030-12-01T04:00' }, { actor });
  });

  const expected = {
    ja: { sign_in: '重大な障害', uploads: 'メンテナンス中', site: '正常', cards: '正常', portal: '正常' },
    en: { sign_in: 'Major outage', uploads: 'Under maintenance', site: 'Operational', cards: 'Operational', portal: 'Operational' },
  } as const;
  for (const lang of ['ja', 'en'] as const) {
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      it(`shows each component's state (${lang}, ${name})`, async () => {
        const page = await web.browser.newPage({ viewport });
        await page.goto(`${web.base}/status?lang=${lang}`);
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

/** The incident start time typed in the form (two days ago, Japan time) is what the status page, the strip, the feed and the banner show. */
describe('an incident start time typed in the form, in headless Chromium', () => {
  const web = usePortal({ browser: true });
  const started = new Date(Math.floor((Date.now() - 2 * 86_400_000) / 60_000) * 60_000);

  beforeAll(async () => {
    await addNotice(web.portal.ctx, {
      kind: 'incident', severity: 'critical', starts_at: toTokyoInput(started),
      title_ja: '画像が表示されない', title_en: 'Images do not load', body_ja: '調査中です。', body_en: 'Investigating.',
    }, { actor });
  });

  for (const lang of ['ja', 'en'] as const) {
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      it(`shows the typed start, not the publish time (${lang}, ${name})`, async () => {
        const page = await web.browser.newPage({ viewport });
        await page.goto(`${web.base}/status?lang=${lang}`);
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
    const feed = await fetch(`${web.base}/status.atom`).then((r) => r.text());
    expect(feed).toContain(`<published>${started.toISOString()}</published>`);
    const api = await fetch(`${web.base}/api/notice`).then((r) => r.json());
    expect(api.notices[0].when.ja).toBe(`発生: ${formatTokyo(started, 'ja')}（日本時間）`);
    expect(api.notices[0].when.en).toBe(`Started ${formatTokyo(started, 'en')} (Japan time)`);
  });
});
