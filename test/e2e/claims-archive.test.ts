import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { useBrowserPortal, artifact } from '../support/browser';
import { tempDir, signedInAgent } from '../support/portal';
import { seedUserData, binaryParser } from '../support/export-seed';

describe('/recover in headless Chromium: your own export archive brings your posts back', () => {
  const work = tempDir('claims-archive-e2e-');
  const media = path.join(work, 'live-uploads');
  fs.mkdirSync(media);
  const web = useBrowserPortal({ TOYBOX_MEDIA_DIR: media, TOYBOX_URL: 'https://toybox.example' });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('on a phone: an edited archive is refused with what failed; the real one shows the posts, restores them PRIVATE, and can be undone', async () => {
    const knex = web.portal.ctx.knex;
    const hana = await seedUserData(knex, media, 'hana');
    const agent = await signedInAgent(web.portal, hana.display_id, hana.password);
    const res = await agent.get('/api/me/export?format=zip').buffer(true).parse(binaryParser);
    expect(res.status).toBe(200);
    const zip = path.join(work, 'toybox-export-hana.zip');
    fs.writeFileSync(zip, res.body as Buffer);
    // An edited copy: one caption changed after export.
    const dir = path.join(work, 'edited');
    execFileSync('unzip', ['-q', zip, '-d', dir]);
    const data = path.join(dir, 'data.json');
    fs.writeFileSync(data, fs.readFileSync(data, 'utf8').replace('hana caption two', 'hana caption 2'));
    const edited = path.join(work, 'edited.zip');
    execFileSync('zip', ['-q', '-r', '-X', edited, '.'], { cwd: dir });
    // The wipe took her posts.
    const posts = (await knex('public.submissions').where({ author_id: hana.id }).pluck('id')).map(Number);
    for (const t of ['reactions', 'submission_bookmarks', 'submission_reposts', 'jackpot_wins', 'discord_shares']) await knex(`public.${t}`).whereIn('submission_id', posts).delete();
    await knex('public.submissions').whereIn('id', posts).delete();

    const page = await web.browser.newPage({ locale: 'ja-JP', viewport: { width: 390, height: 844 } });
    await page.goto(`${web.base}/login?next=/recover`);
    await page.getByLabel('ID またはメールアドレス').fill(hana.display_id);
    await page.getByLabel('パスワード').fill(hana.password);
    await page.getByRole('button', { name: 'ログイン' }).click();
    await page.waitForURL(`${web.base}/recover`);

    await page.getByLabel('アーカイブ（ZIP）を選ぶ').setInputFiles(edited);
    await page.getByRole('button', { name: '確かめる' }).click();
    await expect(page.locator('body').textContent()).resolves.toContain('書き出した後に中のファイルが変更されています');
    await expect(page.locator('body').textContent()).resolves.toContain('data.json differs from the manifest');
    await page.screenshot({ path: artifact('claims-archive-refused-ja.png'), fullPage: true });
    expect(await knex('portal.claim_archives')).toHaveLength(0);

    await page.goto(`${web.base}/recover`);
    await page.getByLabel('アーカイブ（ZIP）を選ぶ').setInputFiles(zip);
    await page.getByRole('button', { name: '確かめる' }).click();
    await expect(page.locator('[data-result="archive"]').textContent()).resolves.toContain('投稿 2 件とカード 3 件');
    const candidates = page.locator('[data-archive] .candidate');
    await expect(candidates.count()).resolves.toBe(2);
    await expect(candidates.first().textContent()).resolves.toContain('hana 最初の投稿');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: artifact('claims-archive-candidates-ja.png'), fullPage: true });

    await page.getByRole('button', { name: '選んだものを戻す' }).click();
    await expect(page.locator('[data-result="restored"]').textContent()).resolves.toBe('戻しました: 投稿 2 件、カード 0 枚。');
    const restored = await knex('public.submissions').where({ author_id: hana.id });
    expect(restored.map((r) => r.status)).toEqual(['PRIVATE', 'PRIVATE']);
    await page.screenshot({ path: artifact('claims-archive-restored-ja.png'), fullPage: true });

    await page.getByRole('button', { name: /元に戻す/ }).click();
    await expect(page.locator('[data-result="undone"]').isVisible()).resolves.toBe(true);
    expect(await knex('public.submissions').where({ author_id: hana.id })).toHaveLength(0);
    await page.close();
  });
});
