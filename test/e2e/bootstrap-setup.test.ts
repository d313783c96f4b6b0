import fs from 'node:fs';
import { useBrowserPortal, artifact } from '../support/browser';
import { ensureBootstrapToken } from '../../src/features/bootstrap/tokens';
import { tokenFilePath } from '../../src/features/bootstrap/token-file';

describe('first administrator through /setup, in headless Chromium', () => {
  const web = useBrowserPortal();

  it('the operator reads the token file, completes /setup, and lands signed in on /admin with the audit log', async () => {
    const quiet = { warn: () => undefined, info: () => undefined, error: () => undefined };
    expect(await ensureBootstrapToken(web.portal.ctx, quiet)).toBe('issued');
    const token = fs.readFileSync(tokenFilePath(web.portal.dataDir), 'utf8').trim();

    const page = await web.browser.newPage({ locale: 'ja-JP' });
    await page.goto(`${web.base}/setup`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('TOYBOX の最初の管理者を設定する');
    await page.getByLabel('設定トークン').fill(token);
    await page.getByLabel('メールアドレス').fill('first.admin@toybox.example');
    await page.getByLabel('表示 ID（ログイン ID）').fill('first_admin');
    await page.getByLabel('パスワード', { exact: true }).fill('first_admin');
    await page.getByLabel('パスワード（確認）').fill('first_admin');
    await page.getByRole('button', { name: '管理者を作成する' }).click();

    // Django's rules, explained beside the field; what was typed (not the secrets) is kept.
    await expect(page.locator('#password-error').textContent()).resolves.toContain('このパスワードは表示 ID と似すぎています。');
    await expect(page.getByLabel('メールアドレス').inputValue()).resolves.toBe('first.admin@toybox.example');
    await expect(page.getByLabel('設定トークン').inputValue()).resolves.toBe('');
    await page.screenshot({ path: artifact('bootstrap-setup-password-rules.png'), fullPage: true });

    await page.getByLabel('設定トークン').fill(token);
    await page.getByLabel('パスワード', { exact: true }).fill('lantern-orbit-kettle-42');
    await page.getByLabel('パスワード（確認）').fill('lantern-orbit-kettle-42');
    await page.getByRole('button', { name: '管理者を作成する' }).click();
    await page.waitForURL(`${web.base}/admin`, { timeout: 30_000 });
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('管理ダッシュボード');
    await expect(page.getByRole('button', { name: /ログアウト \(first_admin\)/ }).isVisible()).resolves.toBe(true);
    await expect(page.locator('table').first().textContent()).resolves.toContain('bootstrap.superuser_created');
    await expect(page.getByText('有効なスーパーユーザー：1 人').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: artifact('bootstrap-setup-admin.png'), fullPage: true });

    expect(fs.existsSync(tokenFilePath(web.portal.dataDir))).toBe(false);
    const gone = await page.goto(`${web.base}/setup`);
    expect(gone?.status()).toBe(404);
    await page.close();
  });
});
