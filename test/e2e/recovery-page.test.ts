import { useBrowserPortal, artifact } from '../support/browser';
import { buildUser } from '../support/factories';
import { parseNoticeInput } from '../../src/features/notice/schema';
import { createNotice } from '../../src/features/notice/service';
import { importCandidates } from '../../src/features/campaigns/addresses/service';

const TOYBOX = 'https://toybox.example';

describe('/admin/recovery in headless Chromium: Japanese and English, desktop and phone', () => {
  const web = useBrowserPortal({ TOYBOX_URL: TOYBOX });

  it('an admin lands on the checklist during a critical incident; it fits 1280x800 and 390x844 in both languages', async () => {
    const { knex } = web.portal.ctx;
    const admin = await buildUser(knex, { is_staff: true, is_superuser: true });
    const input = parseNoticeInput({ kind: 'incident', severity: 'critical', title_ja: 'データベース障害', body_ja: '復旧作業中です', title_en: 'Database outage', body_en: 'Recovering' });
    if (!input.ok) throw new Error('bad notice');
    await createNotice(web.portal.ctx, input.value, { label: 'test', userId: null }, { publish: true });
    await importCandidates(knex, [{ line: 1, raw: 'someone-with-a-rather-long-address@example-mail-provider.co.jp' }], 'mail-log:/var/log/mail.log.1');

    for (const [lang, locale] of [['ja', 'ja-JP'], ['en', 'en-GB']] as const) {
      for (const [width, height] of [[1280, 800], [390, 844]] as const) {
        const context = await web.browser.newContext({ locale, viewport: { width, height } });
        const page = await context.newPage();
        await page.goto(`${web.base}/login?next=/admin&lang=${lang}`);
        await page.locator('input[name="login"]').fill(admin.display_id);
        await page.locator('input[name="password"]').fill(admin.password);
        await page.locator('form[action="/login"] button[type="submit"]').click();
        // /admin sends staff to the checklist while the critical notice is up.
        await page.waitForURL(`${web.base}/admin/recovery`);
        if (lang === 'en') await page.goto(`${web.base}/admin/recovery?lang=en`);
        await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(lang === 'ja' ? '復旧チェックリスト' : 'Recovery checklist');
        await expect(page.locator('[data-item="notice"]').getAttribute('data-state')).resolves.toBe('warn');
        await expect(page.locator('[data-item="addresses"]').getAttribute('data-state')).resolves.toBe('done');
        await expect(page.locator('[data-item="salvage"] .recovery-badge').textContent()).resolves.toBe(lang === 'ja' ? '未着手' : 'Not started'); // salvage provides its line; nothing catalogued yet
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow).toBeLessThanOrEqual(0);
        await page.screenshot({ path: artifact(`recovery-${lang}-${width}x${height}.png`), fullPage: true });
        // The first screen, as the phone shows it before scrolling.
        if (width === 390) await page.screenshot({ path: artifact(`recovery-${lang}-${width}x${height}-first-screen.png`) });
        await context.close();
      }
    }
  });

  it('ticks a line by hand on a phone and sees who did it', async () => {
    const admin = await buildUser(web.portal.ctx.knex, { is_staff: true, is_superuser: true });
    const context = await web.browser.newContext({ locale: 'ja-JP', viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${web.base}/login?next=/admin/recovery`);
    await page.locator('input[name="login"]').fill(admin.display_id);
    await page.locator('input[name="password"]').fill(admin.password);
    await page.locator('form[action="/login"] button[type="submit"]').click();
    await page.waitForURL(`${web.base}/admin/recovery`);
    const line = page.locator('[data-item="provider_disk_check"]');
    await line.locator('input[name="note"]').fill('チケット #4521 で検査済み');
    await line.getByRole('button', { name: '完了にする' }).click();
    await page.waitForURL(/done=ticked/);
    await expect(page.getByRole('status').textContent()).resolves.toContain('完了として記録しました');
    await expect(line.getAttribute('data-state')).resolves.toBe('done');
    await expect(line.textContent()).resolves.toContain(`user:${admin.id}:${admin.display_id} がチェックしました`);
    await expect(line.textContent()).resolves.toContain('チケット #4521 で検査済み');
    await page.screenshot({ path: artifact('recovery-ja-390x844-ticked.png'), fullPage: true });
    await context.close();
  });
});
