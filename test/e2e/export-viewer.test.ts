import fs from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { signedInAgent } from '../support/portal';
import { artifact } from '../support/browser';
import { buildUser } from '../support/factories';
import { seedUserWithFriend, writeMedia, unzipChecked, binaryParser, type SeededUser } from '../support/export-seed';
import { insertSubmissionRow } from '../../src/toybox/rows';
import { usePortal, useTempDir } from '../support/portal-stack';

const JST = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} JST$/;

describe('the offline archive viewer is a page a person would keep (index.html from file://)', () => {
  const mediaDir = useTempDir('viewer-media-');
  const work = useTempDir('viewer-');
  const web = usePortal({ env: { TOYBOX_MEDIA_DIR: mediaDir }, browser: true });
  let user: SeededUser;
  let videoPost: number;
  let gamePost: number;

  beforeAll(async () => {
    ({ user } = await seedUserWithFriend(web.portal.ctx.knex, mediaDir, 'hanako', 'friend'));
    writeMedia(mediaDir, `uploads-video/${user.id}.mp4`, Buffer.from('not really a video, but a file in the archive'));
    videoPost = await insertSubmissionRow(web.portal.ctx.knex, { author_id: user.id, title: '夏の動画', caption: '花火を撮りました' });
    await web.portal.ctx.knex('public.submissions').where({ id: videoPost }).update({ video_url: `https://toybox.example/uploads/uploads-video/${user.id}.mp4` });
    writeMedia(mediaDir, `games/${user.display_id}/1767000000/index.html`, '<!doctype html><title>game</title><p>my game</p>');
    gamePost = await insertSubmissionRow(web.portal.ctx.knex, { author_id: user.id, title: 'ブロック崩し', caption: '初めて作ったゲーム' });
    await web.portal.ctx.knex('public.submissions').where({ id: gamePost }).update({ game_url: `https://toybox.example/media/games/${user.display_id}/1767000000/index.html` });
  });

  async function exportAndUnzip(login: string, password: string, name: string): Promise<string> {
    const agent = await signedInAgent(web.portal, login, password);
    const res = await agent.get('/api/me/export?format=zip').buffer(true).parse(binaryParser);
    expect(res.status).toBe(200);
    unzipChecked(res.body as Buffer, path.join(work, name));
    return path.join(work, name, 'x');
  }

  /** A browser with no network: anything but the files on disk is recorded and refused. */
  async function openOffline(dir: string, viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page; requested: string[]; errors: string[] }> {
    const context = await web.browser.newContext({ locale: 'ja-JP', offline: true, viewport });
    const requested: string[] = [];
    await context.route(/^(https?|wss?):/, (route) => {
      requested.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(`file://${path.join(dir, 'index.html')}`);
    return { context, page, requested, errors };
  }

  it('shows posts as a gallery with images, video and game from the archive, cards as cards, reactions by post title', async () => {
    const dir = await exportAndUnzip(user.display_id, user.password, 'hanako');
    const { context, page, requested, errors } = await openOffline(dir, { width: 1280, height: 800 });

    await expect(page.locator('#title').textContent()).resolves.toContain('TOYBOX');
    await expect(page.locator('#profile .id').textContent()).resolves.toBe(`@${user.display_id}`);
    await expect(page.locator('#profile .bio').textContent()).resolves.toContain('hanako の自己紹介');
    const avatar = page.locator('#profile img.avatar');
    await expect(avatar.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).resolves.toBe(160);

    // The gallery: every post, with title, caption and a Japan-time date; the deleted one marked.
    const posts = page.locator('#posts article.post');
    await expect(posts.count()).resolves.toBe(6);
    const first = page.locator(`#posts article[data-post-id="${user.postIds[0]}"]`);
    await expect(first.locator('h3').textContent()).resolves.toBe('hanako 最初の投稿');
    await expect(first.locator('.caption').textContent()).resolves.toContain('</script> tag');
    await expect(first.locator('.tags').textContent()).resolves.toBe('#art#テスト');
    await expect(first.locator('time').textContent()).resolves.toMatch(JST);
    const image = first.locator('img');
    await expect(image.getAttribute('src')).resolves.toBe(`media/submissions/${user.id}_1.png`);
    await expect(image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).resolves.toBe(160);
    await expect(page.locator(`#posts article[data-post-id="${user.postIds[2]}"] .note`).textContent()).resolves.toBe('ファイルが見つかりませんでした');
    await expect(page.locator(`#posts article[data-post-id="${user.postIds[3]}"] .badge`).textContent()).resolves.toBe('削除済み');
    const video = page.locator(`#posts article[data-post-id="${videoPost}"] video`);
    await expect(video.getAttribute('src')).resolves.toBe(`media/uploads-video/${user.id}.mp4`);
    expect(fs.existsSync(path.join(dir, 'media', 'uploads-video', `${user.id}.mp4`))).toBe(true);
    const game = page.locator(`#posts article[data-post-id="${gamePost}"] a.game`);
    await expect(game.textContent()).resolves.toBe('ゲームを開く');
    const gameHref = (await game.getAttribute('href'))!;
    expect(gameHref).toBe(`media/games/${user.display_id}/1767000000/index.html`);
    expect(fs.readFileSync(path.join(dir, gameHref), 'utf8')).toContain('my game');

    // Cards as cards with their images; duplicates counted, not repeated.
    const cards = page.locator('#cards .card');
    await expect(cards.count()).resolves.toBe(2);
    await expect(page.locator('#cards').textContent()).resolves.toContain('炎のドラゴン');
    await expect(page.locator('#cards').textContent()).resolves.toContain('2 枚');

    // Reactions, bookmarks and reposts name the post, not its id.
    const reactions = await page.locator('#reactions').textContent();
    expect(reactions).toContain('「friend 最初の投稿」');
    expect(reactions).toContain('かわいい');
    expect(reactions).not.toMatch(/submission_id|cute/);
    await expect(page.locator('#bookmarks li').first().textContent()).resolves.toContain('「friend 最初の投稿」');

    // No raw column names on the main page; the rest is folded away.
    const main = await page.locator('main').evaluate((m) => {
      const clone = m.cloneNode(true) as HTMLElement;
      clone.querySelector('details.more')?.remove();
      return clone.textContent ?? '';
    });
    expect(main).not.toMatch(/created_at|submission_id|card_rarity|total_points/);
    await expect(page.locator('details.more').getAttribute('open')).resolves.toBeNull();
    await expect(page.locator('footer.end').textContent()).resolves.toMatch(/このファイルの作成日時: \d{4}-\d{2}-\d{2} \d{2}:\d{2} JST/);
    await page.screenshot({ path: artifact('export-viewer-desktop-ja.png'), fullPage: true });

    await page.getByRole('button', { name: 'English' }).click();
    await expect(page.locator('#posts h2').textContent()).resolves.toBe('Posts6');
    await expect(page.locator('#reactions h2').textContent()).resolves.toContain('Posts I reacted to');
    await expect(page.locator('#reactions').textContent()).resolves.toContain('Cute');
    await page.screenshot({ path: artifact('export-viewer-desktop-en.png'), fullPage: false });
    expect(errors).toEqual([]);
    expect(requested).toEqual([]);
    await context.close();

    // A phone: the same page, two columns, nothing sideways.
    const phone = await openOffline(dir, { width: 390, height: 844 });
    await expect(phone.page.locator('#posts article.post').count()).resolves.toBe(6);
    await expect(phone.page.evaluate(() => document.scrollingElement!.scrollWidth - window.innerWidth)).resolves.toBe(0);
    await phone.page.screenshot({ path: artifact('export-viewer-phone-ja.png'), fullPage: true });
    expect(phone.errors).toEqual([]);
    await phone.context.close();
  });

  it('folds empty sections away for someone with little data, and keeps a strict CSP', async () => {
    const quiet = await buildUser(web.portal.ctx.knex);
    await insertSubmissionRow(web.portal.ctx.knex, { author_id: quiet.id, title: 'ひとこと', caption: 'こんにちは' });
    const dir = await exportAndUnzip(quiet.display_id, quiet.password, 'quiet');
    const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!;
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).not.toContain('unsafe-inline');
    const { context, page, errors } = await openOffline(dir, { width: 390, height: 844 });
    await expect(page.locator('#posts article.post').count()).resolves.toBe(1);
    await expect(page.locator('#posts .note').textContent()).resolves.toBe('テキスト投稿');
    for (const id of ['cards', 'reactions', 'bookmarks', 'reposts', 'follows', 'articles', 'titles']) {
      await expect(page.locator(`section#${id}`).count()).resolves.toBe(0);
    }
    await expect(page.locator('section.kind').count()).resolves.toBe(1);
    await expect(page.locator('footer .empty').textContent()).resolves.toContain('記録がなかった項目: カード、リアクションした投稿');
    await page.screenshot({ path: artifact('export-viewer-phone-quiet.png'), fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  });
});
