import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { artifact } from '../support/browser';
import { useBannerSite } from '../support/toybox-site';
import { addNotice } from '../support/notices';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'notice');

/** The home-page fixture (TOYBOX's layout) with the one banner tag, as TOYBOX's origin serves it. */
function homePage(req: http.IncomingMessage, res: http.ServerResponse, portal: string): void {
  if (req.url === '/home.css') {
    res.writeHead(200, { 'content-type': 'text/css' });
    res.end(fs.readFileSync(path.join(FIXTURES, 'toybox-home.css')));
    return;
  }
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'self'; script-src 'self' ${portal}; connect-src 'self' ${portal}; style-src 'self'; media-src 'self'`,
  });
  const html = fs.readFileSync(path.join(FIXTURES, 'toybox-home.html'), 'utf8');
  res.end(html.replace('__BANNER_TAG__', `<script src="${portal}/banner.js" defer></script>`));
}

/** What is painted topmost at a point, seen from the page (a point inside the banner's shadow root gives its host). */
function topmostAt(page: Page, x: number, y: number): Promise<string> {
  return page.evaluate(([px, py]) => {
    const e = document.elementFromPoint(px!, py!);
    return e ? (e.id ? `#${e.id}` : e.tagName.toLowerCase()) : 'nothing';
  }, [x, y]);
}

async function centre(page: Page, selector: string): Promise<{ x: number; y: number }> {
  const box = (await page.locator(selector).boundingBox())!;
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

describe('the banner on TOYBOX\'s home layout (fixed full-screen video at z-index 0, overflow hidden, layers up to 100)', () => {
  const web = useBannerSite(homePage);
  const errors: string[] = [];

  beforeAll(async () => {
    await addNotice(web.portal.ctx, {
      kind: 'incident',
      severity: 'critical',
      title_ja: 'データ消失のお詫びと再登録のお願い',
      body_ja: '1月22日の障害で、アカウントと投稿が失われました。[復旧状況](/status)をご確認ください。',
      title_en: 'Data loss and re-registration',
      body_en: 'Accounts and posts were lost on 22 January. See [the status page](/status).',
    }, { actor: { label: 'test:e2e', userId: null } });
  });

  async function open(width: number, height: number, withoutPopover = false): Promise<Page> {
    const context = await web.browser.newContext({ viewport: { width, height }, locale: 'ja-JP' });
    // Browsers before popovers (Chrome 114, Safari 17, Firefox 125): the script falls back to a fixed bar.
    if (withoutPopover) await context.addInitScript(() => delete (HTMLElement.prototype as { showPopover?: unknown }).showPopover);
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(web.site.url);
    await page.locator('toybox-notice .tbx-title').waitFor();
    return page;
  }

  for (const [width, height] of [
    [1280, 800],
    [390, 844],
  ] as const) {
    it(`is topmost, clickable and collapsible at ${width}x${height}, and pushes nothing off-screen`, async () => {
      const page = await open(width, height);
      const navBefore = (await page.locator('.top-nav').boundingBox())!;

      // Painted above the video (z-index 0), the content (10), the card layer (50) and the fixed header (100).
      const title = await centre(page, 'toybox-notice .tbx-title');
      expect(await topmostAt(page, title.x, title.y)).toBe('toybox-notice');
      const barBox = (await page.locator('toybox-notice .tbx-bar').boundingBox())!;
      expect(barBox.y).toBe(0);
      expect(barBox.width).toBe(width);
      expect(barBox.height).toBeLessThanOrEqual(height * 0.45 + 1); // never the whole screen
      await page.screenshot({ path: artifact(`notice-toybox-home-${width}x${height}.png`) });

      // The page's layout did not move: an overlay, not content pushed under an overflow:hidden edge.
      expect(await page.locator('.top-nav').boundingBox()).toEqual(navBefore);
      expect(await page.evaluate(() => [window.scrollY, document.documentElement.scrollHeight <= window.innerHeight])).toEqual([0, true]);

      // Same-site links in the notice lead to the portal, not to TOYBOX.
      const inBody = page.locator('toybox-notice .tbx-body a');
      expect(await inBody.getAttribute('href')).toBe(`${web.base}/status`);
      // Clickable where it is painted: a real mouse click at the link's position opens the portal's status page.
      const link = await centre(page, 'toybox-notice .tbx-body a');
      expect(await topmostAt(page, link.x, link.y)).toBe('toybox-notice');

      // Minimised, it gives the page's own controls back (the header's sign-in link under the bar).
      const collapse = await centre(page, 'toybox-notice .tbx-collapse');
      await page.mouse.click(collapse.x, collapse.y);
      const login = await centre(page, '#nav-login');
      expect(await topmostAt(page, login.x, login.y)).toBe('#nav-login');
      const cta = await centre(page, '#cta');
      expect(await topmostAt(page, cta.x, cta.y)).toBe('#cta');
      const tab = page.locator('toybox-notice .tbx-tab');
      expect(await tab.textContent()).toBe('お知らせ (1)');
      const tabBox = (await tab.boundingBox())!;
      expect(tabBox.width).toBeLessThan(200); // a small tab in a corner
      expect(await topmostAt(page, tabBox.x + tabBox.width / 2, tabBox.y + tabBox.height / 2)).toBe('toybox-notice');
      await page.screenshot({ path: artifact(`notice-toybox-home-${width}x${height}-minimised.png`) });

      // Minimised stays minimised on the next page view of the same notice version; the tab opens it again.
      await page.reload();
      await tab.waitFor();
      expect(await page.locator('toybox-notice .tbx-bar').isVisible()).toBe(false);
      await tab.click();
      expect(await page.locator('toybox-notice .tbx-bar').isVisible()).toBe(true);

      // And the real click on the link (coordinates, not a DOM call) goes to the portal.
      const again = await centre(page, 'toybox-notice .tbx-body a');
      const [status] = await Promise.all([page.context().waitForEvent('page'), page.mouse.click(again.x, again.y)]); // notice links open a new tab
      await status.waitForLoadState();
      expect(status.url()).toBe(`${web.base}/status`);
      await page.context().close();
      expect(errors).toEqual([]);
    });
  }

  it('without popover support it is still the topmost element (fixed, highest z-index) and minimisable', async () => {
    const page = await open(1280, 800, true);
    expect(await page.evaluate(() => document.querySelector('toybox-notice')!.hasAttribute('popover'))).toBe(false);
    const title = await centre(page, 'toybox-notice .tbx-title');
    expect(await topmostAt(page, title.x, title.y)).toBe('toybox-notice');
    await page.locator('toybox-notice .tbx-collapse').click();
    const login = await centre(page, '#nav-login');
    expect(await topmostAt(page, login.x, login.y)).toBe('#nav-login');
    await page.context().close();
    expect(errors).toEqual([]);
  });
});
