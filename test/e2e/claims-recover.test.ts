import fs from 'node:fs';
import path from 'node:path';
import { buildUser } from '../support/factories';
import { useBrowserPortal, artifact } from '../support/browser';
import { tempDir, signedInAgent, csrfFrom } from '../support/portal';
import { makeOldWorld, type OldWorld } from '../support/claims-fixtures';

describe('/recover in headless Chromium: original files prove an old account, one click restores it', () => {
  const work = tempDir('claims-e2e-');
  const media = path.join(work, 'live-uploads');
  fs.mkdirSync(media);
  const web = useBrowserPortal({ TOYBOX_MEDIA_DIR: media, TOYBOX_URL: 'https://toybox.example' });
  let world: OldWorld;

  beforeAll(async () => {
    world = await makeOldWorld(web.portal.ctx, work);
    for (const [name, bytes] of Object.entries(world.originals)) fs.writeFileSync(path.join(work, name), bytes);
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('a person chooses their original files on a phone, sees what matched, restores posts, header and old name, and can undo', async () => {
    const kuma = await buildUser(web.portal.ctx.knex, { display_id: 'kuma_phone' });
    const page = await web.browser.newPage({ locale: 'ja-JP', viewport: { width: 390, height: 844 } });
    await page.goto(`${web.base}/login?next=/recover`);
    await page.getByLabel('ID またはメールアドレス').fill(kuma.display_id);
    await page.getByLabel('パスワード').fill(kuma.password);
    await page.getByRole('button', { name: 'ログイン' }).click();
    await page.waitForURL(`${web.base}/recover`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('以前の投稿・プロフィール・カードを取り戻す');

    await page.getByLabel('ファイルを選ぶ').setInputFiles([path.join(work, 'sunset.png'), path.join(work, 'clip.mp4')]);
    await page.getByRole('button', { name: '照合する' }).click();
    await page.waitForSelector('#file-report');
    await expect(page.locator('[data-file="sunset.png"]').textContent()).resolves.toContain('submissions/7_1767225600.png');
    await expect(page.locator('[data-outcome="approved"]').textContent()).resolves.toContain('以前の ID 7');
    // previews load (served to the owner only) and the old caption shows as text
    const previews = page.locator('.candidate img');
    await expect(previews.count()).resolves.toBe(5);
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.candidate img')].slice(0, 2).every((i) => i.complete && i.naturalWidth > 0));
    await expect(page.locator('.candidate').first().textContent()).resolves.toContain('夕焼け');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: artifact('claims-recover-candidates-ja.png'), fullPage: true });

    const knex = web.portal.ctx.knex;
    const before = await knex('public.user_meta').where({ user_id: kuma.id }).first();
    await page.getByRole('radio', { name: '以前の画像を使う' }).nth(1).check(); // the header
    await page.getByLabel('以前の表示名「くま」にする').check();
    await page.getByRole('button', { name: '選んだものを戻す' }).click();
    await expect(page.locator('[data-result="restored"]').textContent()).resolves.toBe('戻しました: 投稿 6 件、カード 3 枚、ヘッダー画像、プロフィール 1 項目。');
    const meta = await knex('public.user_meta').where({ user_id: kuma.id }).first();
    expect(meta.display_name).toBe('くま');
    expect(meta.header_url).toMatch(new RegExp(`^https://toybox\\.example/uploads/profiles/header_${kuma.id}_[0-9a-f]{8}\\.png$`));
    expect(await knex('public.submissions').where({ author_id: kuma.id }).whereNot({ status: 'PRIVATE' })).toHaveLength(0);
    await page.screenshot({ path: artifact('claims-recover-restored-ja.png'), fullPage: true });

    await page.getByRole('button', { name: /元に戻す/ }).click();
    await expect(page.locator('[data-result="undone"]').isVisible()).resolves.toBe(true);
    expect(await knex('public.submissions').where({ author_id: kuma.id })).toHaveLength(0);
    const after = await knex('public.user_meta').where({ user_id: kuma.id }).first();
    expect([after.display_name, after.header_url]).toEqual([before.display_name, before.header_url]);
    await page.close();
  });

  it('staff compare two claims on one old id side by side (English, phone width) and approve one with a reason', async () => {
    const knex = web.portal.ctx.knex;
    const [a, b] = [await buildUser(knex, { display_id: 'usagi_one' }), await buildUser(knex, { display_id: 'usagi_two' })];
    for (const u of [a, b]) {
      const agent = await signedInAgent(web.portal, u.display_id, u.password);
      const page = await agent.get('/recover');
      await agent.post('/recover/files').field('_csrf', csrfFrom(page.text)).attach('files', world.originals['usagi.png']!, 'usagi.png');
    }
    const staff = await buildUser(knex, { is_staff: true, role: 'ADMIN' });
    const page = await web.browser.newPage({ locale: 'en-US', viewport: { width: 390, height: 844 } });
    await page.goto(`${web.base}/login?next=/admin/claims&lang=en`);
    await page.getByLabel('ID or e-mail address').fill(staff.display_id);
    await page.getByLabel('Password').fill(staff.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/admin\/claims/);
    const group = page.locator('[data-old-user="8"]');
    await expect(group.locator('article.claim').count()).resolves.toBe(2);
    await expect(group.textContent()).resolves.toContain('Original file matched: submissions/8_1767226100.png');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: artifact('claims-admin-queue-en.png'), fullPage: true });
    const first = group.locator('article.claim').first();
    await first.getByLabel('Approve').check();
    await first.getByLabel('Reason').fill('first upload, matching Discord share');
    await first.getByRole('button', { name: 'Decide' }).click();
    await expect(page.getByRole('status').textContent()).resolves.toContain('decided');
    const claims = await knex('portal.claims').where({ old_user_id: 8 }).orderBy('id');
    expect(claims.map((c: { status: string }) => c.status)).toEqual(['approved', 'pending']);
    await page.close();
  });
});
