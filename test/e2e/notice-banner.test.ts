import http from 'node:http';
import type { Page } from 'playwright-core';
import { artifact } from '../support/browser';
import * as service from '../../src/features/notice/service';
import { useBannerSite } from '../support/toybox-site';
import { addNotice } from '../support/notices';

const actor = { label: 'test:e2e', userId: null };

/**
 * A stand-in for a TOYBOX page: another origin, hostile site CSS, a strict
 * CSP of its own, and the one script tag.
 */
function hostHtml(lang: 'ja' | 'en', portal: string, inHead = false): string {
  const tag = inHead ? `<script src="${portal}/banner.js"></script>` : `<script src="${portal}/banner.js" defer></script>`;
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><title>TOYBOX</title><link rel="stylesheet" href="/site.css">${inHead ? tag : ''}</head>
<body><header id="site-header">TOYBOX</header><main><h1>${lang === 'ja' ? 'ようこそ' : 'Welcome'}</h1><p>Site content.</p></main>
${inHead ? '' : tag}</body></html>`;
}

/** TOYBOX's stand-in: hostile site CSS, its own strict CSP naming the portal, and the one script tag. */
function hostPage(req: http.IncomingMessage, res: http.ServerResponse, portal: string): void {
  if (req.url === '/site.css') {
    res.writeHead(200, { 'content-type': 'text/css' });
    res.end('div, p, button { color: lime !important; font-size: 40px !important; display: none !important; } body { margin: 0; }');
    return;
  }
  const lang = req.url?.includes('en') ? 'en' : 'ja';
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'self'; script-src 'self' ${portal}; connect-src 'self' ${portal}; style-src 'self'`,
  });
  res.end(hostHtml(lang, portal, req.url?.startsWith('/head-')));
}

describe('the one-tag banner on a TOYBOX page, in headless Chromium', () => {
  const web = useBannerSite(hostPage);
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    const context = await web.browser.newContext({ viewport: { width: 1000, height: 600 } });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  });

  async function open(path: string) {
    const scriptDone = page.waitForResponse((r) => r.url().endsWith('/banner.js'));
    await page.goto(`${web.site.url}${path}`);
    await scriptDone;
    await page.waitForLoadState('networkidle');
  }

  const banner = () => page.locator('toybox-notice');

  it('renders nothing when no notice is active', async () => {
    await open('/ja.html');
    expect(await banner().count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('shows the active notice in Japanese and English, styled inside its shadow root', async () => {
    const id = await addNotice(
      web.portal.ctx,
      { kind: 'incident', severity: 'critical', title_ja: 'サイトに接続できない障害', body_ja: '現在**調査中**です。', title_en: 'The site is unreachable', body_en: 'We are **investigating**.' },
      { actor },
    );
    await open('/ja.html');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('サイトに接続できない障害');
    expect(await alert.textContent()).toContain('現在調査中です。');
    const box = await banner().boundingBox();
    expect(box!.y).toBe(0); // at the top of the page
    expect(box!.height).toBeGreaterThan(30);
    expect(box!.height).toBeLessThan(200); // site CSS (40px, display:none) did not reach inside
    // its own stylesheet applies under the host's strict style-src (constructed stylesheet in the shadow root)
    const bg = await page.evaluate(() => {
      const box = document.querySelector('toybox-notice')!.shadowRoot!.querySelector('.tbx-notice')!;
      return getComputedStyle(box).backgroundColor;
    });
    expect(bg).toBe('rgb(253, 236, 234)');
    const link = page.getByRole('link', { name: '詳しくは障害情報ページへ' });
    expect(await link.getAttribute('href')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/status\?lang=ja$/);
    await page.screenshot({ path: artifact('notice-banner-ja.png') });

    await open('/en.html');
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('The site is unreachable');
    expect(await page.getByRole('button', { name: /Dismiss notice/ }).isVisible()).toBe(true);
    await page.screenshot({ path: artifact('notice-banner-en.png') });
    expect(errors).toEqual([]);
    expect(id).toBeGreaterThan(0);
  });

  it('is dismissed by keyboard, stays dismissed across a reload, and a newer version shows again', async () => {
    await open('/ja.html');
    await page.getByRole('alert').waitFor();
    await page.keyboard.press('Tab'); // the status link
    await page.keyboard.press('Tab'); // the dismiss button
    const focused = await page.evaluate(() => {
      let a: Element | null = document.activeElement;
      while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
      return a?.getAttribute('aria-label') ?? '';
    });
    expect(focused).toContain('お知らせを閉じる');
    await page.keyboard.press('Enter');
    expect(await banner().count()).toBe(0);

    await open('/ja.html');
    expect(await banner().count()).toBe(0);
    await open('/en.html'); // same site, same dismissal
    expect(await banner().count()).toBe(0);

    const [active] = (await service.listAllNotices(web.portal.ctx)).filter((n) => n.published_at && !n.resolved_at);
    await service.addUpdate(web.portal.ctx, active!.id, { state: 'identified', body_ja: '原因を特定しました。', body_en: 'We found the cause.' }, actor);
    await open('/ja.html');
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('原因を特定しました。');
    await page.screenshot({ path: artifact('notice-banner-ja-update.png') });

    await service.resolveNotice(web.portal.ctx, active!.id, actor);
    await open('/ja.html');
    expect(await banner().count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('uses role="status" for a non-critical notice and shows maintenance times', async () => {
    await addNotice(
      web.portal.ctx,
      { kind: 'maintenance', state: 'scheduled', severity: 'info', title_ja: '定期メンテナンス', title_en: 'Planned maintenance', body_ja: '一時停止します。', starts_at: '2026-12-05T01:00', ends_at: '2026-12-05T03:00' },
      { actor },
    );
    await open('/en.html');
    const status = page.getByRole('status');
    await status.waitFor();
    expect(await status.textContent()).toContain('5 Dec 2026, 01:00 – 5 Dec 2026, 03:00 (Japan time)');
    await page.screenshot({ path: artifact('notice-banner-en-maintenance.png') });
    expect(errors).toEqual([]);
  });

  it('works from <head> without defer, and shows nothing (and no error) when the portal fails', async () => {
    await open('/head-en.html');
    await page.getByRole('status').waitFor();
    expect(await banner().count()).toBe(1);

    // a portal whose banner.js answers 500, then carries malformed notices: the host page must not notice
    const js = await (await fetch(`${web.base}/banner.js`, { headers: { 'accept-encoding': 'identity' } })).text();
    const malformed = js.replace(/var DATA = .*;\n/, () => 'var DATA = {"notices": [{"id": 1, "version": 1, "title": null}]};\n');
    expect(malformed).not.toBe(js);
    let mode = 500;
    const broken = http.createServer((req, res) => {
      res.writeHead(mode, { 'content-type': 'text/javascript' });
      res.end(mode === 500 ? '' : malformed);
    });
    await new Promise<void>((r) => broken.listen(0, '127.0.0.1', r));
    const brokenUrl = `http://127.0.0.1:${(broken.address() as { port: number }).port}`;
    web.site.setPortal(brokenUrl);
    try {
      for (const m of [500, 200]) {
        mode = m;
        await open('/ja.html');
        expect(await banner().count()).toBe(0);
      }
      expect(errors.filter((e) => !e.includes('500'))).toEqual([]);
    } finally {
      web.site.setPortal(web.base);
      await new Promise((r) => broken.close(r));
    }
  });
});
