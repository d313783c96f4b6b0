import type { Page } from 'playwright-core';
import { artifact } from '../support/browser';
import { buildUser, type BuiltUser } from '../support/factories';
import { importCandidates } from '../../src/features/campaigns/addresses/service';
import { createCampaign, getCampaign } from '../../src/features/campaigns/lifecycle/service';
import { createNotice } from '../../src/features/notice/service';
import { parseNoticeInput } from '../../src/features/notice/schema';
import { usePortal } from '../support/portal-stack';

const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

/** Bulk and public actions ask first, on a page of their own that works without JavaScript. */
describe('confirmation before sending, cancelling, publishing and resolving (no JavaScript)', () => {
  const web = usePortal({ smtp: true, queues: ['campaignTestSend'], browser: true }); // test messages go through the queue
  let admin: BuiltUser;

  beforeAll(async () => {
    admin = await buildUser(web.portal.ctx.knex, { is_staff: true, is_superuser: true, email: 'staff@toybox.example' });
    await importCandidates(web.portal.ctx.knex, ['a@example.jp', 'b@example.jp', 'c@example.jp'].map((raw, i) => ({ line: i + 1, raw })), 'test');
  });

  async function signedIn(lang: 'ja' | 'en', viewport: { width: number; height: number }): Promise<Page> {
    const context = await web.browser.newContext({ viewport, javaScriptEnabled: false, locale: lang === 'ja' ? 'ja-JP' : 'en-GB' });
    const page = await context.newPage();
    await page.goto(`${web.base}/login?lang=${lang}`);
    await page.locator('input[name="login"]').fill(admin.display_id);
    await page.locator('input[name="password"]').fill(admin.password);
    await page.locator('form[action="/login"] button[type="submit"]').click();
    await page.waitForLoadState();
    return page;
  }
  const fits = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

  for (const lang of ['ja', 'en'] as const) {
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      it(`start sending says how many, how fast and until when in Japan time, and only the confirm button sends (${lang}, ${name})`, async () => {
        const { id } = await createCampaign(web.portal.ctx.knex, { name: `c-${lang}-${name}`, subject_ja: '件名', text_ja: '{{link}}', rate_per_minute: 2 }, 'test');
        const page = await signedIn(lang, viewport);
        await page.goto(`${web.base}/admin/campaigns/${id}?lang=${lang}`);
        await page.getByRole('button', { name: lang === 'ja' ? '送信開始' : 'Start sending', exact: true }).click();
        const summary = await page.locator('.confirm-summary').innerText();
        expect(summary).toContain(lang === 'ja' ? '3 人に送信します。' : 'This sends to 3 people.');
        expect(summary).toContain(lang === 'ja' ? '送信速度: 2 通/分' : 'Rate: 2 per minute');
        // 3 messages at 2 a minute: two minutes from now, labelled Japan time
        expect(summary).toMatch(lang === 'ja' ? /終了見込み: \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}（日本時間）/ : /Expected to finish: .+ \(Japan time\)/);
        expect((await getCampaign(web.portal.ctx.knex, id))!.status).toBe('draft'); // asking changed nothing
        expect(await fits(page)).toBeLessThanOrEqual(0);
        await page.screenshot({ path: artifact(`confirm-send-${lang}-${name}.png`), fullPage: true });

        // going back does nothing; confirming cancels only after its own page
        await page.getByRole('link', { name: lang === 'ja' ? '戻る（何もしない）' : 'Go back (do nothing)' }).click();
        await page.getByRole('button', { name: lang === 'ja' ? '中止' : 'Cancel', exact: true }).click();
        expect(await page.locator('.confirm-summary').innerText()).toContain(lang === 'ja' ? '送信されないまま中止' : 'cancelled without sending');
        await page.screenshot({ path: artifact(`confirm-cancel-${lang}-${name}.png`), fullPage: true });
        expect((await getCampaign(web.portal.ctx.knex, id))!.status).toBe('draft');
        await page.getByRole('button', { name: lang === 'ja' ? '中止する' : 'Cancel the campaign' }).click();
        await page.waitForURL(/notice=cancel/);
        expect((await getCampaign(web.portal.ctx.knex, id))!.status).toBe('cancelled');
        await page.context().close();
      });
    }
  }

  it('the confirm button starts the sending', async () => {
    const { id } = await createCampaign(web.portal.ctx.knex, { name: 'really send', subject_ja: '件名', text_ja: '{{link}}', rate_per_minute: 0 }, 'test');
    const page = await signedIn('ja', VIEWPORTS.desktop);
    await page.goto(`${web.base}/admin/campaigns/${id}`);
    await page.getByRole('button', { name: '送信開始', exact: true }).click();
    expect(await page.locator('.confirm-summary').innerText()).toContain('送信速度の上限はありません');
    await page.getByRole('button', { name: '3 人への送信を開始する' }).click();
    await page.waitForURL(/notice=send/);
    expect(['sending', 'completed']).toContain((await getCampaign(web.portal.ctx.knex, id))!.status);
    await page.context().close();
  });

  it('test-sends to a typed list of addresses, validated and capped', async () => {
    const { id } = await createCampaign(web.portal.ctx.knex, { name: 'test list', subject_ja: 'テスト件名', text_ja: '{{link}}' }, 'test');
    const page = await signedIn('ja', VIEWPORTS.phone);
    await page.goto(`${web.base}/admin/campaigns/${id}`);
    const box = page.getByLabel(/テスト送信先/);
    expect(await box.inputValue()).toBe('staff@toybox.example');
    await box.fill('editor@toybox.example\nnot-an-address');
    await page.getByRole('button', { name: 'テスト送信' }).click();
    // Refused beside the box, which keeps what was typed, so the admin corrects it there.
    expect(await page.locator('#to-error').innerText()).toContain('メールアドレスとして正しくありません: not-an-address');
    expect(await page.getByLabel(/テスト送信先/).inputValue()).toBe('editor@toybox.example\nnot-an-address');
    expect(await page.getByLabel(/テスト送信先/).getAttribute('aria-invalid')).toBe('true');
    await page.screenshot({ path: artifact('confirm-test-send-error-ja-phone.png'), fullPage: true });
    await page.goto(`${web.base}/admin/campaigns/${id}`);
    await page.getByLabel(/テスト送信先/).fill(Array.from({ length: 11 }, (_, i) => `t${i}@example.jp`).join('\n'));
    await page.getByRole('button', { name: 'テスト送信' }).click();
    expect(await page.locator('#to-error').innerText()).toContain('10 件まで');
    const before = web.sink.messages.length;
    await page.goto(`${web.base}/admin/campaigns/${id}`);
    await page.getByLabel(/テスト送信先/).fill('editor@toybox.example, designer@toybox.example');
    await page.getByRole('button', { name: 'テスト送信' }).click();
    await page.waitForURL(/notice=test_sent/);
    const got = (await web.sink.waitFor(before + 2)).slice(before);
    expect(got.map((m) => m.envelopeTo[0]).sort()).toEqual(['designer@toybox.example', 'editor@toybox.example']);
    expect(got.every((m) => m.parsed.subject === '[TEST] テスト件名')).toBe(true);
    // the test-send box fits the phone (the page's other rows are issue 13 point 9's)
    expect(await page.locator('#test-to').evaluate((el) => el.getBoundingClientRect().right - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.context().close();
  });

  for (const lang of ['ja', 'en'] as const) {
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      it(`publishing a notice to every page and resolving it ask first (${lang}, ${name})`, async () => {
        const page = await signedIn(lang, viewport);
        const title = `${lang}-${name} の障害`;
        await page.goto(`${web.base}/admin/notices/new?lang=${lang}`);
        await page.locator('#severity').selectOption('critical');
        await page.locator('#title_ja').fill(title);
        await page.locator('#body_ja').fill('調査中です。');
        await page.locator('button[name="action"][value="publish"]').click();
        expect(await page.locator('h1').innerText()).toBe(lang === 'ja' ? 'このお知らせを公開しますか？' : 'Publish this notice?');
        expect(await page.locator('.notice-preview').first().innerText()).toContain(title); // the banner as it will look
        const api = async () => (await (await fetch(`${web.base}/api/notice`)).json()).notices.map((n: { title: { ja: string } }) => n.title.ja);
        expect(await api()).not.toContain(title); // asking published nothing
        expect(await fits(page)).toBeLessThanOrEqual(0);
        await page.screenshot({ path: artifact(`confirm-publish-${lang}-${name}.png`), fullPage: true });
        await page.getByRole('button', { name: lang === 'ja' ? 'すべてのページに公開する' : 'Publish to every page' }).click();
        await page.waitForURL(/\/admin\/notices\/\d+\?saved=1/);
        expect(await api()).toContain(title);

        await page.locator(`form[action$="/resolve"] button`).click();
        expect(await page.locator('h1').innerText()).toContain(title);
        expect(await api()).toContain(title);
        await page.screenshot({ path: artifact(`confirm-resolve-${lang}-${name}.png`), fullPage: true });
        await page.getByRole('button', { name: lang === 'ja' ? '解決済みにする' : 'Mark as resolved' }).click();
        await page.waitForURL(/published=1/);
        expect(await api()).not.toContain(title);
        await page.context().close();
      });
    }
  }

  it('a draft published later also asks first', async () => {
    const parsed = parseNoticeInput({ kind: 'incident', severity: 'warning', title_ja: '下書き', body_ja: '本文' });
    if (!parsed.ok) throw new Error('bad');
    const id = await createNotice(web.portal.ctx, parsed.value, { label: 'test', userId: null }, { publish: false });
    const page = await signedIn('ja', VIEWPORTS.desktop);
    await page.goto(`${web.base}/admin/notices/${id}`);
    await page.locator('button[name="action"][value="publish"]').click();
    expect(await page.locator('h1').innerText()).toBe('このお知らせを公開しますか？');
    await page.context().close();
  });
});
