import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { startTestPortal, type TestPortal } from '../support/portal';
import { launchBrowser, artifact } from '../support/browser';
import { buildUser } from '../support/factories';
import { eventually } from '../support/eventually';
import * as service from '../../src/features/notice/service';
import { parseNoticeInput } from '../../src/features/notice/schema';

/** A TOYBOX-like page that embeds the banner from `scriptBase`, on its own origin; /fetch.html also tries a CORS read of /api/notice. */
async function startHost(): Promise<{ server: http.Server; url: string; scriptBase: { value: string } }> {
  const scriptBase = { value: '' };
  const server = http.createServer((req, res) => {
    const fetchApi = req.url?.startsWith('/fetch') ? `<script>fetch(${JSON.stringify(`${scriptBase.value}/api/notice`)}).catch(function () {});</script>` : '';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="${req.url?.includes('en') ? 'en' : 'ja'}"><head><meta charset="utf-8"><title>TOYBOX</title></head><body><h1>TOYBOX</h1><script src="${scriptBase.value}/banner.js" defer></script>${fetchApi}</body></html>`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, scriptBase };
}

describe('the banner on pages of any origin, and the dashboard naming where it loaded and where it was refused', () => {
  let portal: TestPortal;
  let browser: Browser;
  let base: string;
  let listed: Awaited<ReturnType<typeof startHost>>;
  let unlisted: Awaited<ReturnType<typeof startHost>>;
  let caddy: http.Server;
  let caddyUrl: string;

  beforeAll(async () => {
    listed = await startHost();
    unlisted = await startHost();
    // TOYBOX_URL lists two origins; `unlisted` (another port) is in neither
    portal = await startTestPortal({ TOYBOX_URL: `${listed.url}, https://www.toybox.example` });
    base = await portal.listen();
    listed.scriptBase.value = base;
    unlisted.scriptBase.value = base;
    // Caddy's fallback while the portal is down: the files in DATA_DIR/public, as they are
    caddy = http.createServer((req, res) => {
      const file = path.join(portal.dataDir, 'public', req.url === '/banner.js' ? 'banner.js' : 'missing');
      fs.readFile(file, (err, body) => {
        res.writeHead(err ? 404 : 200, { 'content-type': 'text/javascript' });
        res.end(err ? '' : body);
      });
    });
    await new Promise<void>((r) => caddy.listen(0, '127.0.0.1', r));
    caddyUrl = `http://127.0.0.1:${(caddy.address() as { port: number }).port}`;
    browser = await launchBrowser();
    const parsed = parseNoticeInput({ kind: 'incident', severity: 'warning', title_ja: '画像の表示が遅れています', body_ja: '調査中です。', title_en: 'Images are slow', body_en: 'Investigating.' });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    await service.createNotice(portal.ctx, parsed.value, { label: 'test:e2e', userId: null }, { publish: true });
  });
  afterAll(async () => {
    await browser?.close();
    await portal?.close();
    for (const s of [listed?.server, unlisted?.server, caddy]) if (s) await new Promise((r) => s.close(r));
  });

  it('paints the banner on an origin TOYBOX_URL does not list, with no request to /api/notice', async () => {
    for (const lang of ['ja', 'en'] as const) {
      const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
      const apiCalls: string[] = [];
      page.on('request', (r) => r.url().includes('/api/notice') && apiCalls.push(r.url()));
      await page.goto(`${unlisted.url}/${lang}.html`);
      const status = page.getByRole('status');
      await status.waitFor();
      expect(await status.textContent()).toContain(lang === 'ja' ? '画像の表示が遅れています' : 'Images are slow');
      expect(apiCalls).toEqual([]);
      await page.screenshot({ path: artifact(`notice-banner-unlisted-origin-${lang}-phone.png`) });
      await page.close();
    }
  });

  it('paints the same banner from the fallback file Caddy serves while the portal is down', async () => {
    const fallback = fs.readFileSync(path.join(portal.dataDir, 'public', 'banner.js'), 'utf8');
    expect(fallback).toContain('画像の表示が遅れています');
    listed.scriptBase.value = caddyUrl;
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${listed.url}/en.html`);
      await page.getByRole('status').waitFor();
      expect(await page.getByRole('status').textContent()).toContain('Images are slow');
      await page.close();
    } finally {
      listed.scriptBase.value = base;
    }
  });

  it('lists on the dashboard the origins that loaded the banner and the ones refused (ja/en, desktop/phone)', async () => {
    // a listed page, an unlisted page, and an unlisted page that reads /api/notice across origins (refused)
    for (const url of [`${listed.url}/ja.html`, `${unlisted.url}/ja.html`, `${unlisted.url}/fetch.html`]) {
      const page = await browser.newPage();
      const answered = page.waitForResponse((r) => r.url().endsWith('/banner.js'));
      // the refused read fails in the page (CORS) but its request reaches the portal
      const api = url.endsWith('fetch.html') ? page.waitForEvent('requestfailed', (r) => r.url().endsWith('/api/notice')) : null;
      await page.goto(url);
      await answered;
      await api;
      await page.close();
    }
    const admin = await buildUser(portal.ctx.knex, { is_staff: true, is_superuser: true });
    for (const [lang, locale] of [['ja', 'ja-JP'], ['en', 'en-GB']] as const) {
      for (const [name, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]] as const) {
        const context = await browser.newContext({ locale, viewport });
        const page = await context.newPage();
        await page.goto(`${base}/login?next=/admin&lang=${lang}`);
        await page.locator('input[name="login"]').fill(admin.display_id);
        await page.locator('input[name="password"]').fill(admin.password);
        await page.locator('form[action="/login"] button[type="submit"]').click();
        await page.waitForURL(`${base}/admin`);
        await eventually(async () => {
          await page.reload();
          return (await page.locator('.notice-origins-refused').count()) === 1;
        }, 15_000, 300);
        const loaded = await page.locator('.notice-origins-loaded').innerText();
        expect(loaded).toContain(listed.url);
        expect(loaded).toContain(unlisted.url);
        const refused = await page.locator('.notice-origins-refused').innerText();
        expect(refused).toContain(unlisted.url);
        expect(refused).not.toContain(listed.url);
        const panel = page.locator('.notice-origins-refused').locator('xpath=ancestor::section[1]');
        expect(await page.locator('main').innerText()).toContain(lang === 'ja' ? 'TOYBOX_URL にカンマ区切りで追加してください' : 'add them to TOYBOX_URL, separated by commas');
        // this panel fits the phone (the dashboard's other tables are issue 13 point 9's)
        const panelOverflow = await page.locator('.notice-origins-loaded').evaluate((el) => el.getBoundingClientRect().right - window.innerWidth);
        expect(panelOverflow).toBeLessThanOrEqual(0);
        if (await panel.count()) await panel.scrollIntoViewIfNeeded();
        await page.screenshot({ path: artifact(`notice-origins-dashboard-${lang}-${name}.png`), fullPage: true });
        await context.close();
      }
    }
  });
});
