import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { useBrowserPortal, artifact } from '../support/browser';
import { buildUser, type BuiltUser } from '../support/factories';
import { eventually } from '../support/eventually';
import { outboxDir } from '../../src/mail/mailer';
import { createCampaign } from '../../src/features/campaigns/lifecycle/service';
import { personalLinks } from '../../src/features/campaigns/sending/message';
import { createNotice } from '../../src/features/notice/service';
import { parseNoticeInput } from '../../src/features/notice/schema';
import { recordAudit } from '../../src/audit/service';
import { tokyoDay } from '../../src/i18n/tokyo-time';

/** Every GET route of the app, read from its router the way a crawler would find them. */
function getRoutes(app: unknown): string[] {
  const out: string[] = [];
  const walk = (stack: Array<{ route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: unknown[] } }>) => {
    for (const layer of stack) {
      if (layer.route) {
        if (layer.route.methods.get) out.push(String(layer.route.path));
      } else if (layer.handle?.stack) walk(layer.handle.stack as typeof stack);
    }
  };
  walk((app as { router: { stack: Parameters<typeof walk>[0] } }).router.stack);
  return [...new Set(out)];
}

// Answers that machines read (probes, feeds, downloads, JSON, CSV): no layout to check.
const MACHINE = new Set(['/healthz', '/readyz', '/metrics', '/status.atom', '/api/me/export', '/export/download/:id', '/admin/campaigns/:id/progress.json', '/admin/campaigns/:id/recipients.csv', '/admin/salvage/thumbs/:sha256', '/recover/preview/:id']);

// Both sizes in Japanese; the phone again in English, whose words are longer.
const PASSES = [
  { width: 390, height: 844, lang: 'ja' },
  { width: 1280, height: 800, lang: 'ja' },
  { width: 390, height: 844, lang: 'en' },
];

/** What a person would see as broken: sideways scrolling, or a label squeezed to one character per line. */
async function layoutProblems(page: Page): Promise<{ overflow: number; squeezed: string[]; culprits: string[] }> {
  return page.evaluate(() => {
    const overflow = document.scrollingElement!.scrollWidth - window.innerWidth;
    const culprits: string[] = [];
    if (overflow > 0) {
      for (const el of document.querySelectorAll<HTMLElement>('body *')) {
        const r = el.getBoundingClientRect();
        if (r.right > window.innerWidth + 1 && !(el.parentElement && el.parentElement.getBoundingClientRect().right > window.innerWidth + 1)) {
          culprits.push(`${el.tagName.toLowerCase()}${el.className ? '.' + String(el.className).split(' ').join('.') : ''}`);
        }
      }
    }
    const squeezed: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('label, th, dt, legend, summary, button, .badge, a.button')) {
      const text = (el.textContent ?? '').trim();
      if (text.length < 3) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      const font = parseFloat(getComputedStyle(el).fontSize);
      if (r.height > 3.5 * font && r.width < 2.5 * font) squeezed.push(`${el.tagName.toLowerCase()} "${text.slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
    return { overflow, squeezed, culprits: culprits.slice(0, 4) };
  });
}

describe('every page fits a phone and a desktop (390x844, 1280x800; Japanese and English)', () => {
  const web = useBrowserPortal();
  let staff: BuiltUser;

  it('walks every GET page of the app signed in as staff: no sideways scrolling, no squeezed labels', async () => {
    const { portal, browser, base } = web;
    const knex = portal.ctx.knex;
    staff = await buildUser(knex, { is_staff: true, is_superuser: true, display_id: 'staff_admin_with_a_long_name' });

    const context = await browser.newContext({ locale: 'ja-JP' });
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.getByLabel('ID またはメールアドレス').fill(staff.display_id);
    await page.getByLabel('パスワード').fill(staff.password);
    await page.getByRole('button', { name: 'ログイン' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));

    // Seed what the parameterised pages show, with long real-looking values that stress a layout.
    await page.goto(`${base}/admin/campaigns/import`);
    const csv = 'email,display_id,name\r\n' + Array.from({ length: 4 }, (_, i) => `someone.with.a.rather.long.address.${i}@mail.example-provider.co.jp,user_${i}_long_display_identifier,名前${i}`).join('\r\n');
    await page.locator('#file').setInputFiles({ name: 'toybox-users-before-the-incident-2026-01-22.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.locator('form[action="/admin/campaigns/import"] button[type=submit]').click();
    await page.waitForURL(/\/admin\/campaigns\/import\/[0-9a-f]{24}\/map$/);
    const mapUrl = new URL(page.url()).pathname;
    // Keep a second upload for the map page (submitting the first one consumes it).
    await page.goto(`${base}/admin/campaigns/import`);
    await page.locator('#file').setInputFiles({ name: 'second.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.locator('form[action="/admin/campaigns/import"] button[type=submit]').click();
    await page.waitForURL(/\/map$/);
    const mapUrl2 = new URL(page.url()).pathname;
    await page.goto(`${base}${mapUrl}`);
    await page.locator('form[action$="/map"] button[type=submit]').click();
    await page.waitForURL(/\/admin\/campaigns\/imports\/\d+$/);
    const importRunUrl = new URL(page.url()).pathname;
    await eventually(async () => Number((await knex('portal.addresses').count({ n: '*' }).first())!.n) >= 4);

    const { id: campaignId } = await createCampaign(knex, {
      name: '再登録のお願い 第1弾（2026年1月のデータ消失でアカウントを失った方へ）', subject_ja: 'TOYBOX 再登録のお願い', text_ja: '{{display_name}} 様\n\nこちらから: {{link}}', rate_per_minute: 60, concurrency: 2,
    } as Parameters<typeof createCampaign>[1], 'test');
    const recipient = await knex('portal.campaign_recipients').where({ campaign_id: campaignId }).first('id');
    const links = personalLinks(portal.config, campaignId, Number(recipient.id));

    const notice = parseNoticeInput({ kind: 'incident', severity: 'critical', title_ja: 'データベース障害により 2026年1月22日以前のデータが失われました', body_ja: '復旧作業中です。' });
    if (!notice.ok) throw new Error('bad notice');
    const noticeId = await createNotice(portal.ctx, notice.value, { label: 'test', userId: null }, { publish: true });

    await knex('portal.backups').insert({
      kind: 'database', status: 'failed', trigger: 'schedule', total_bytes: 123456789,
      error: 'pg_dump: error: connection to server at "db.internal.toybox.example" (10.0.0.12), port 5432 failed: FATAL: remaining connection slots are reserved',
    });
    await recordAudit(knex, `user:${staff.display_id}`, 'campaigns.import_addresses_from_a_really_long_action_name', 'import:toybox-users-before-the-incident-2026-01-22.csv', {});

    // Archives sent to staff (shown on /admin/claims and on the sender's /recover): a long key fingerprint and account name.
    const archiveRow = (n: number, status: string, review: unknown, reason: string | null) => ({
      user_id: staff.id, sha256: String(n).repeat(64).slice(0, 64), size: 123456789, upload_name: 'toybox-export-staff_admin_with_a_long_name-2026-01-21T23-59-59.zip', stored_path: '',
      key_id: 'ed25519:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', exported_at: '2026-01-21T14:59:59.000Z',
      subject: JSON.stringify({ user_id: 123456, display_id: 'someone_else_with_a_very_long_display_identifier', global_id: 'toybox:toybox.example:new:users:123456', email_sha256: null }),
      proof: 'none yet: sent to staff for review', status, review: JSON.stringify(review), decision_reason: reason, decided_at: reason ? new Date() : null, decided_by: reason ? `user:${staff.display_id}` : null,
    });
    await knex('portal.claim_archives').insert([
      archiveRow(1, 'review', { reasons: [{ code: 'foreign_key', key_id: 'ed25519:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' }, { code: 'other_account', user_id: 123456, display_id: 'someone_else_with_a_very_long_display_identifier' }], rows: 12345, files: 678 }, null),
      archiveRow(2, 'rejected', { reasons: [{ code: 'unsigned' }], rows: 3, files: 1 }, 'マニフェストの対象と送った人のメールアドレスが一致せず、ほかに本人だと示すものがありませんでした。'),
    ]);

    fs.mkdirSync(outboxDir(portal.dataDir), { recursive: true });
    const emlName = '2026-01-22T15-30-00-000Z-0a1b2c3d.eml';
    fs.writeFileSync(
      path.join(outboxDir(portal.dataDir), emlName),
      'From: TOYBOX <noreply@toybox.local>\r\nTo: someone.with.a.rather.long.address@mail.example-provider.co.jp\r\nSubject: TOYBOX 再登録のお願い\r\nDate: Thu, 22 Jan 2026 15:30:00 +0000\r\n' +
        `List-Unsubscribe: <https://portal.toybox.example/u/${links.unsubscribeToken}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello ${links.link}\r\n`,
    );

    const seeds: Record<string, string> = {
      '/admin/campaigns/import/:key/map': mapUrl2,
      '/admin/campaigns/imports/:id': importRunUrl,
      '/admin/mail/captured/:name': `/admin/mail/captured/${emlName}`,
      '/r/:token': new URL(links.link).pathname,
      '/u/:token': `/u/${links.unsubscribeToken}`,
      '/admin/campaigns/:id': `/admin/campaigns/${campaignId}`,
      '/admin/campaigns/:id/edit': `/admin/campaigns/${campaignId}/edit`,
      '/admin/campaigns/:id/preview': `/admin/campaigns/${campaignId}/preview`,
      '/admin/campaigns/:id/preview.html': `/admin/campaigns/${campaignId}/preview.html`,
      // A link that is no longer valid is also a page people land on.
      '/export/link/:token': '/export/link/expired-or-already-used-token',
      '/admin/notices/:id': `/admin/notices/${noticeId}`,
      '/status/day/:day': `/status/day/${tokyoDay(new Date())}`,
      // Links from e-mails that are no longer valid are pages people land on too.
      '/status/subscribe/confirm/:token': '/status/subscribe/confirm/expired-or-forged-link-token',
      '/status/unsubscribe/:token': '/status/unsubscribe/expired-or-forged-link-token',
      '/recover/email/:token': '/recover/email/expired-or-forged-link-token-00000000000000', // 43 characters: the 410 page
      '/recover/invite/:token': '/recover/invite/expired-or-forged-link-token-00000000000000',
    };

    const routes = getRoutes(portal.app);
    expect(routes.length).toBeGreaterThan(20);
    for (const m of MACHINE) expect(routes).toContain(m); // the list names real routes
    const urls: string[] = [];
    for (const r of routes) {
      if (MACHINE.has(r)) continue;
      if (r.includes(':')) {
        expect({ route: r, seeded: Boolean(seeds[r]) }).toEqual({ route: r, seeded: true });
        urls.push(seeds[r]!);
      } else urls.push(r);
    }

    const problems: string[] = [];
    const shots = new Set(['/admin', '/admin/backups', `/admin/campaigns/${campaignId}`, '/status', '/admin/audit']);
    for (const vp of PASSES) {
      await page.setViewportSize({ width: vp.width, height: vp.height });
      await context.addCookies([{ name: 'lang', value: vp.lang, url: base }]);
      for (const url of urls) {
        const res = await page.goto(`${base}${url}`);
        expect({ url, status: res!.status() < 500 }).toEqual({ url, status: true });
        const { overflow, squeezed, culprits } = await layoutProblems(page);
        if (overflow > 0) problems.push(`${vp.width}px ${vp.lang} ${url}: scrolls sideways by ${overflow}px (${culprits.join(', ')})`);
        for (const s of squeezed) problems.push(`${vp.width}px ${vp.lang} ${url}: squeezed ${s}`);
        if (shots.has(url)) await page.screenshot({ path: artifact(`layout-${url.replace(/\W+/g, '_') || 'home'}-${vp.width}-${vp.lang}.png`), fullPage: true });
      }
    }
    expect(problems).toEqual([]);
    await context.close();
  });
});
