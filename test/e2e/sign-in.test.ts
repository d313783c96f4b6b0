import { buildUser } from '../support/factories';
import { useBrowserPortal, artifact } from '../support/browser';

describe('signing in, in headless Chromium', () => {
  const web = useBrowserPortal();

  it('a staff member signs in with display id and password and reaches the dashboard', async () => {
    const staff = await buildUser(web.portal.ctx.knex, { is_staff: true, role: 'ADMIN' });
    const page = await web.browser.newPage({ locale: 'ja-JP' });
    await page.goto(`${web.base}/`);
    await page.getByRole('link', { name: 'ログイン' }).click();
    await page.getByLabel('ID またはメールアドレス').fill(staff.display_id);
    await page.getByLabel('パスワード').fill(staff.password);
    await page.getByRole('button', { name: 'ログイン' }).click();
    await page.waitForURL(`${web.base}/admin`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('管理ダッシュボード');
    await expect(page.getByRole('button', { name: new RegExp(`ログアウト \\(${staff.display_id}\\)`) }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: artifact('sign-in-admin.png'), fullPage: true });

    await page.getByRole('button', { name: /ログアウト/ }).click();
    await page.waitForURL(`${web.base}/`);
    await expect(page.getByRole('link', { name: 'ログイン' }).isVisible()).resolves.toBe(true);
    await page.close();
  });

  it('shows the wrong-password message in English when asked', async () => {
    const user = await buildUser(web.portal.ctx.knex);
    const page = await web.browser.newPage();
    await page.goto(`${web.base}/login?lang=en`);
    await page.getByLabel('ID or e-mail address').fill(user.display_id);
    await page.getByLabel('Password').fill('not-it');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('The ID or password is not correct.');
    await page.screenshot({ path: artifact('sign-in-wrong-password-en.png') });
    await page.close();
  });
});
