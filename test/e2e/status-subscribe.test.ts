import { artifact } from '../support/browser';
import { eventually } from '../support/eventually';
import { feature as noticeFeature } from '../../src/features/notice';
import { usePortal } from '../support/portal-stack';

const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
const TEXT = {
  ja: { subscribe: 'メールで更新を受け取る', feed: 'Atom フィード（更新の購読）', button: '確認メールを送る', sent: '確認メールを送りました', confirm: '登録を完了する', done: '登録が完了しました', feedHeading: 'フィードリーダーで受け取る' },
  en: { subscribe: 'Get updates by e-mail', feed: 'Atom feed (subscribe to updates)', button: 'Send the confirmation e-mail', sent: 'Confirmation e-mail sent', confirm: 'Finish signing up', done: 'You are signed up', feedHeading: 'Follow in a feed reader' },
} as const;

/** From the status page to a confirmed e-mail subscription, and a feed link that opens a page a person can read. */
describe('subscribing from the status page, in headless Chromium (no JavaScript)', () => {
  const web = usePortal({ smtp: true, background: [noticeFeature], browser: true });

  for (const lang of ['ja', 'en'] as const) {
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      it(`signs up from the status page and confirms from the e-mail (${lang}, ${name})`, async () => {
        const context = await web.browser.newContext({ viewport, javaScriptEnabled: false });
        const page = await context.newPage();
        const fits = async () => expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
        await page.goto(`${web.base}/status?lang=${lang}`);

        // the feed link opens a page that explains the feed, not raw XML
        await page.getByRole('link', { name: TEXT[lang].feed }).click();
        expect(await page.locator('#feed').innerText()).toBe(TEXT[lang].feedHeading);
        expect(await page.locator('.feed-url').innerText()).toBe('http://localhost:0/status.atom');

        await page.goto(`${web.base}/status?lang=${lang}`);
        await page.getByRole('link', { name: TEXT[lang].subscribe }).click();
        await fits();
        await page.screenshot({ path: artifact(`status-subscribe-form-${lang}-${name}.png`), fullPage: true });
        const address = `${lang}-${name}@example.jp`;
        await page.getByLabel(lang === 'ja' ? 'メールアドレス' : 'E-mail address').fill(address);
        await page.getByRole('button', { name: TEXT[lang].button }).click();
        expect(await page.locator('h1').innerText()).toBe(TEXT[lang].sent);
        await fits();
        await page.screenshot({ path: artifact(`status-subscribe-sent-${lang}-${name}.png`), fullPage: true });

        await eventually(() => web.sink.messages.some((m) => m.envelopeTo.includes(address)), 10_000);
        const mail = web.sink.messages.find((m) => m.envelopeTo.includes(address))!;
        const link = /http:\/\/localhost:0(\/status\/subscribe\/confirm\/[\w.-]+)/.exec(mail.parsed.text ?? '')![1]!;
        await page.goto(`${web.base}${link}?lang=${lang}`);
        await page.getByRole('button', { name: TEXT[lang].confirm }).click();
        expect(await page.locator('h1').innerText()).toBe(TEXT[lang].done);
        await fits();
        await page.screenshot({ path: artifact(`status-subscribe-confirmed-${lang}-${name}.png`), fullPage: true });
        const row = await web.portal.ctx.knex('portal.notice_subscribers').where({ email_key: address }).first();
        expect(row).toMatchObject({ lang });
        expect(row.confirmed_at).not.toBeNull();
        await context.close();
      });
    }
  }
});
