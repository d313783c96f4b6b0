import fs from 'node:fs';
import path from 'node:path';
import iconv from 'iconv-lite';
import { usePortal, useTempDir } from '../support/portal-stack';
import { artifact } from '../support/browser';
import { buildUser } from '../support/factories';
import { feature } from '../../src/features/campaigns';

describe('campaign journey in headless Chromium: import -> template -> preview -> send -> progress -> funnel', () => {
  const web = usePortal({ background: [feature], browser: true }); // no SMTP: messages land in the outbox the admin can read
  const dir = useTempDir('campaigns-e2e-');

  it('an admin imports a Shift_JIS spreadsheet, writes and previews the invitation, sends it and watches the funnel', async () => {
    const admin = await buildUser(web.portal.ctx.knex, { is_staff: true, email: 'staff@toybox.example' });
    const csv = ['番号,お名前,連絡先メール,表示ID', '1,山田花子,ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ,hanako', '2,佐藤,sato@example.jp,sato_k', '3,壊れた行,sato-at-example,x', '4,鈴木,suzuki@example.jp,suzuki'].join('\r\n');
    const file = path.join(dir, '名簿.csv');
    fs.writeFileSync(file, iconv.encode(csv, 'cp932'));

    const page = await web.browser.newPage({ locale: 'ja-JP' });
    await page.goto(`${web.base}/login?next=/admin/campaigns`);
    await page.getByLabel('ID またはメールアドレス').fill(admin.display_id);
    await page.getByLabel('パスワード').fill(admin.password);
    await page.getByRole('button', { name: 'ログイン' }).click();
    await page.waitForURL(`${web.base}/admin/campaigns`);

    // Import with the column-mapping step.
    await page.getByRole('link', { name: 'アドレスを取り込む' }).click();
    await page.getByLabel('ファイル').setInputFiles(file);
    await page.getByRole('button', { name: 'アップロード' }).click();
    await page.waitForURL(/\/map$/);
    await expect(page.getByLabel('メールアドレス').inputValue()).resolves.toBe('2');
    await expect(page.getByLabel('名前').inputValue()).resolves.toBe('1');
    await page.getByLabel('表示ID').selectOption('3');
    await page.screenshot({ path: artifact('campaigns-1-column-mapping.png'), fullPage: true });
    await page.getByRole('button', { name: '取り込み開始' }).click();
    await page.waitForSelector('#import-result', { timeout: 20_000 });
    await expect(page.locator('[data-field="imported"]').textContent()).resolves.toBe('3');
    await expect(page.locator('#rejected-rows').textContent()).resolves.toMatch(/4\s*sato-at-example\s*@ がありません/);
    await page.screenshot({ path: artifact('campaigns-2-import-result.png'), fullPage: true });

    // Template: a mistake is explained beside the field, then fixed.
    await page.getByRole('link', { name: 'キャンペーンを作成' }).click();
    await page.getByLabel('キャンペーン名（管理用）').fill('再登録のお願い 第1弾');
    await page.locator('#subject_ja').fill('TOYBOX 再登録のお願い');
    await page.locator('#text_ja').fill('{{display_name}} 様\n\nこちらから登録し直してください: {{signup}}\n');
    await page.getByLabel('1分あたりの送信数（0 = 無制限）').fill('0');
    await page.getByRole('button', { name: '保存' }).click();
    await expect(page.locator('#text_ja-error').textContent()).resolves.toContain('未知の変数 {{signup}}');
    await page.screenshot({ path: artifact('campaigns-3-template-error.png'), fullPage: true });
    await page.locator('#text_ja').fill('{{display_name}} 様\n\nこちらから登録し直してください: {{link}}\n');
    await page.getByRole('button', { name: '保存' }).click();
    await page.waitForURL(/\/admin\/campaigns\/\d+$/);
    const id = Number(/(\d+)$/.exec(page.url())![1]);

    // Preview with a real recipient, then a test send to the signed-in admin.
    await page.getByRole('link', { name: 'プレビュー' }).click();
    await expect(page.locator('#preview-subject').textContent()).resolves.toBe('TOYBOX 再登録のお願い');
    await expect(page.locator('#preview-text').textContent()).resolves.toMatch(/様\n\nこちらから登録し直してください:\nhttp:\/\/localhost:0\/r\//);
    const frame = page.frameLocator('iframe.mail-preview');
    await expect(frame.locator('body').textContent()).resolves.toContain('登録し直してください');
    await page.screenshot({ path: artifact('campaigns-4-preview.png'), fullPage: true });
    await page.goto(`${web.base}/admin/campaigns/${id}`);
    expect(await page.getByLabel(/テスト送信先/).inputValue()).toBe('staff@toybox.example');
    await page.getByRole('button', { name: 'テスト送信' }).click();
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('テストメールを');

    // Send; the page follows the progress live until completion.
    await page.getByRole('button', { name: '送信開始' }).click();
    await page.getByRole('button', { name: '3 人への送信を開始する' }).click(); // the confirmation step
    await page.waitForFunction(() => document.getElementById('campaign-status')?.textContent === '完了', undefined, { timeout: 30_000 });
    await expect(page.locator('[data-field="sent"]').first().textContent()).resolves.toBe('3');
    await page.screenshot({ path: artifact('campaigns-5-completed.png'), fullPage: true });

    // One person follows the personal link and signs up again: the funnel shows it.
    const mails = await web.portal.ctx.knex('portal.campaign_recipients').where({ campaign_id: id }).select('id', 'email');
    expect(mails.map((m) => m.email).sort()).toEqual(['hanako@example.jp', 'sato@example.jp', 'suzuki@example.jp']);
    await page.goto(`${web.base}/admin/mail/captured`);
    await page.getByRole('link', { name: 'TOYBOX 再登録のお願い' }).first().click();
    const body = await page.locator('pre.mail-text').textContent();
    const link = /http:\/\/localhost:0(\/r\/[\w.-]+)/.exec(body!)![1]!;
    await page.screenshot({ path: artifact('campaigns-6-captured-message.png'), fullPage: true });
    const visitor = await web.browser.newPage({ locale: 'ja-JP' });
    await visitor.goto(`${web.base}${link}`);
    await expect(visitor.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('TOYBOX に戻ってきてください');
    await expect(visitor.getByRole('button', { name: '登録する' }).isVisible()).resolves.toBe(true);
    const email = /このご案内をお送りしたアドレス: (\S+)/.exec((await visitor.locator('body').textContent())!)![1]!;
    await visitor.screenshot({ path: artifact('campaigns-7-landing.png'), fullPage: true });
    await visitor.close();
    await buildUser(web.portal.ctx.knex, { email });

    await page.goto(`${web.base}/admin/campaigns/${id}`);
    await expect(page.locator('[data-field="funnel_clicked"]').textContent()).resolves.toBe('1');
    await expect(page.locator('[data-field="funnel_reregistered"]').textContent()).resolves.toBe('1');
    await expect(page.locator('table.funnel').textContent()).resolves.toMatch(/再登録\s*1\s*33\.3%/);
    await page.screenshot({ path: artifact('campaigns-8-funnel.png'), fullPage: true });

    const csvRes = await page.request.get(`${web.base}/admin/campaigns/${id}/recipients.csv`);
    const text = await csvRes.text();
    expect(text.split('\r\n')[0]).toBe('\ufeffemail,display_id,lang,status,attempts,last_error,skip_reason,sent_at,clicked_at,unsubscribed_at,soft_bounces,hard_bounced_at,reregistered');
    expect(text.split('\r\n').filter((l) => l.includes(',sent,')).length).toBe(3);
    expect(text).toMatch(new RegExp(`${email.replace('.', '\\.')},[^\\r]*,true\\r\\n`));
    await page.close();
  });
});
