import { tokyoDay } from '../../src/i18n/tokyo-time';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { artifact } from '../support/browser';
import { seedUserWithFriend, type SeededUser } from '../support/export-seed';
import { usePortal, useTempDir } from '../support/portal-stack';

describe('downloading my data and reading it offline, in headless Chromium', () => {
  const mediaDir = useTempDir('export-e2e-media-');
  const work = useTempDir('export-e2e-');
  const web = usePortal({ env: { TOYBOX_MEDIA_DIR: mediaDir }, browser: true });
  let user: SeededUser;

  beforeAll(async () => {
    ({ user } = await seedUserWithFriend(web.portal.ctx.knex, mediaDir, 'hanako', 'friend'));
  });

  it('signs in, downloads the ZIP, and opens index.html from disk with the network off', async () => {
    const context = await web.browser.newContext({ locale: 'ja-JP', acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(`${web.base}/export`);
    await page.getByRole('link', { name: 'ログインしてダウンロードする' }).click();
    await page.getByLabel('ID またはメールアドレス').fill(user.display_id);
    await page.getByLabel('パスワード').fill(user.password);
    await page.getByRole('button', { name: 'ログイン' }).click();
    await page.waitForURL(`${web.base}/export`);
    await expect(page.locator('tr[data-kind="posts"] td.num').textContent()).resolves.toBe('4');
    await page.screenshot({ path: artifact('export-page.png'), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'ZIP をダウンロード' }).click()]);
    expect(download.suggestedFilename()).toBe(`toybox-export-${user.display_id}-${tokyoDay(new Date())}.zip`);
    const zip = path.join(work, download.suggestedFilename());
    await download.saveAs(zip);
    await context.close();
    expect(execFileSync('unzip', ['-t', zip], { encoding: 'utf8' })).toMatch(/No errors detected/);
    const out = path.join(work, 'unzipped');
    execFileSync('unzip', ['-q', zip, '-d', out]);

    // A fresh browser context with no network at all: nothing may be fetched but the files on disk.
    const offline = await web.browser.newContext({ locale: 'ja-JP', offline: true });
    const requested: string[] = [];
    await offline.route(/^(https?|wss?):/, (route) => {
      requested.push(route.request().url());
      return route.abort();
    });
    await offline.setOffline(true);
    const viewer = await offline.newPage();
    const errors: string[] = [];
    viewer.on('pageerror', (e) => errors.push(e.message));
    await viewer.goto(`file://${path.join(out, 'index.html')}`);
    const posts = viewer.locator('#posts article.post');
    await expect(posts.count()).resolves.toBe(4);
    await expect(viewer.locator('#posts').textContent()).resolves.toContain('hanako 最初の投稿');
    await expect(viewer.locator('#posts').textContent()).resolves.toContain('</script> tag');
    await expect(viewer.locator('#profile .id').textContent()).resolves.toBe(`@${user.display_id}`);
    await expect(viewer.locator('#cards').textContent()).resolves.toContain('炎のドラゴン');
    await expect(viewer.locator('#reactions').textContent()).resolves.toContain('かわいい');
    await expect(viewer.locator('#bookmarks h2 .count').textContent()).resolves.toBe('1');
        await expect(viewer.locator('#point_history').textContent()).resolves.toContain('リポスト');
    // the post image is the archived file, really loaded from disk
    const firstImage = viewer.locator(`#posts article[data-post-id="${user.postIds[0]}"] img`);
    await expect(firstImage.getAttribute('src')).resolves.toBe(`media/submissions/${user.id}_1.png`);
    await expect(firstImage.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).resolves.toBe(160);
    await viewer.locator('#posts').screenshot({ path: artifact('export-offline-posts.png') });

    await viewer.getByRole('button', { name: 'English' }).click();
    await expect(viewer.locator('#posts h2').textContent()).resolves.toBe('Posts4');
    await viewer.screenshot({ path: artifact('export-offline-viewer-en.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(requested).toEqual([]);
    await offline.close();
  });
});
