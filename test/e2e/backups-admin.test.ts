import { useBrowserPortal, artifact } from '../support/browser';
import { buildUser } from '../support/factories';
import { insertSubmissionRow } from '../../src/toybox/rows';
import { backupNow } from '../../src/features/backups/service';

describe('an admin meets a suspect backup on the dashboard, in headless Chromium', () => {
  const web = useBrowserPortal();

  it('sees the warning, opens /admin/backups, acknowledges, and pruning may resume', async () => {
    const admin = await buildUser(web.portal.ctx.knex, { is_staff: true, is_superuser: true });
    const member = await buildUser(web.portal.ctx.knex);
    for (const title of ['一', '二', '三', '四']) await insertSubmissionRow(web.portal.ctx.knex, { author_id: member.id, title });
    expect((await backupNow(web.portal.ctx, 'database', { trigger: 'test' }))!.status).toBe('good');
    await web.portal.ctx.knex.raw('TRUNCATE public.submissions CASCADE');
    const suspect = (await backupNow(web.portal.ctx, 'database', { trigger: 'test' }))!;
    expect(suspect.status).toBe('suspect');

    const page = await web.browser.newPage({ locale: 'ja-JP' });
    await page.goto(`${web.base}/login?next=/admin`);
    await page.locator('input[name="login"]').fill(admin.display_id);
    await page.locator('input[name="password"]').fill(admin.password);
    await page.locator('form[action="/login"] button[type="submit"]').click();
    await page.waitForURL(`${web.base}/admin`);
    await expect(page.getByText('要確認のバックアップがあります').first().isVisible()).resolves.toBe(true);
    await page.screenshot({ path: artifact('backups-dashboard-suspect.png'), fullPage: true });

    await page.getByRole('link', { name: 'バックアップの詳細を見る' }).click();
    await page.waitForURL(`${web.base}/admin/backups`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('バックアップと監視');
    await expect(page.getByRole('alert').first().textContent()).resolves.toContain('submissions: 4 -> 0');
    await page.screenshot({ path: artifact('backups-admin-suspect.png'), fullPage: true });

    await page.getByRole('button', { name: `確認済みにする (#${suspect.id})` }).click();
    await page.waitForURL(`${web.base}/admin/backups?done=acknowledged`);
    await expect(page.getByRole('status').textContent()).resolves.toContain('確認済みにしました');
    await expect(page.getByRole('alert').count()).resolves.toBe(0);
    await page.screenshot({ path: artifact('backups-admin-acknowledged.png'), fullPage: true });
    await page.close();

    const row = await web.portal.ctx.knex('portal.backups').where({ id: suspect.id }).first();
    expect(row.status).toBe('good');
    expect(row.acknowledged_by).toBe(`user:${admin.id}:${admin.display_id}`);
  });
});
