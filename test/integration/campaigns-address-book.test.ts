import { signedInAgent, csrfFrom } from '../support/portal';
import { useTestPortal } from '../support/portal-stack';
import { buildUser } from '../support/factories';
import { onEachScreen, artifact } from '../support/browser';
import { importCandidates } from '../../src/features/campaigns/addresses/service';
import { createCampaign, startSending } from '../../src/features/campaigns/lifecycle/service';

describe('address lookup for admins (/admin/campaigns/addresses)', () => {
  const portal = useTestPortal();
  let admin: Awaited<ReturnType<typeof buildUser>>;
  beforeAll(async () => {
    const knex = portal.ctx.knex;
    admin = await buildUser(knex, { is_staff: true });
    await importCandidates(knex, [{ line: 1, raw: 'Ｈａｎａｋｏ＠Example.jp', lang: null, name: '山田花子' }, { line: 2, raw: 'hanamura@example.jp', lang: 'en', name: null }], '名簿-2026.csv');
    const { id } = await createCampaign(knex, { name: '再登録のお願い 第1弾', subject_ja: '件名', text_ja: '{{link}}', rate_per_minute: 0, concurrency: 1 }, 'test');
    await startSending(knex, id, 'test');
    await knex('portal.campaign_recipients').where({ campaign_id: id }).update({ status: 'sent', sent_at: new Date('2026-12-01T01:00:00Z'), attempts: 1 });
    await knex('portal.campaign_recipients').where({ campaign_id: id, email_key: 'hanako@example.jp' }).update({ clicked_at: new Date('2026-12-01T02:30:00Z') });
    await knex('portal.bounce_events').insert({ email_key: 'hanako@example.jp', kind: 'soft', status_code: '452', reason: 'mailbox full', source: 'webhook' });
  });

  it('finds an address as typed on a phone (full-width) and shows imports, messages, clicks and bounces', async () => {
    const agent = await signedInAgent(portal, admin.display_id, admin.password);
    const res = await agent.get(`/admin/campaigns/addresses?q=${encodeURIComponent('ＨＡＮＡＫＯ＠example.jp')}&lang=ja`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('data-email="hanako@example.jp"');
    expect(res.text).toMatch(/id="address-sources">名簿-2026\.csv</);
    expect(res.text).toContain('再登録のお願い 第1弾');
    expect(res.text).toMatch(/data-status="sent">送信済み</);
    expect(res.text).toContain('クリック 1 回');
    expect(res.text).toMatch(/<td>ソフト<\/td><td><code lang="en">452 mailbox full<\/code>/);
    expect(res.text).toMatch(/data-suppressed="false"/);

    // A fragment lists the matches instead.
    const partial = await agent.get('/admin/campaigns/addresses?q=hana&lang=en');
    expect(partial.text).toContain('2 addresses found');
    expect(partial.text).toContain('href="/admin/campaigns/addresses?q=hanamura%40example.jp"');
    const none = await agent.get('/admin/campaigns/addresses?q=nobody%25&lang=en');
    expect(none.text).toContain('No address matches');
  });

  it('suppresses and unsuppresses with CSRF, each audited, and refuses bad input without changing anything', async () => {
    const knex = portal.ctx.knex;
    const agent = await signedInAgent(portal, admin.display_id, admin.password);
    const page = await agent.get('/admin/campaigns/addresses?q=hanamura@example.jp');
    expect((await agent.post('/admin/campaigns/addresses/suppress').type('form').send({ email: 'hanamura@example.jp' })).status).toBe(403);
    expect(await knex('portal.suppressions').where({ email_key: 'hanamura@example.jp' }).first()).toBeUndefined();

    const bad = await agent.post('/admin/campaigns/addresses/suppress').type('form').send({ _csrf: csrfFrom(page.text), email: 'not-an-address' });
    expect(bad.status).toBe(422);
    expect(bad.text).toMatch(/id="email-error">メールアドレスの形式が正しくありません。/);
    const longNote = await agent.post('/admin/campaigns/addresses/suppress').type('form').send({ _csrf: csrfFrom(page.text), email: 'ＨＡＮＡＭＵＲＡ@example.jp', note: 'x'.repeat(501) });
    expect(longNote.status).toBe(422);
    expect(longNote.text).toContain('data-email="hanamura@example.jp"'); // the address opened again, the note's problem beside it
    expect(longNote.text).toMatch(/id="note-error">メモは 500 文字までです。/);
    expect((await agent.post('/admin/campaigns/addresses/forget').type('form').send({ _csrf: csrfFrom(page.text), email: 'hanamura@example.jp' })).status).toBe(404);
    expect(await knex('portal.suppressions').count<{ n: string }[]>({ n: '*' })).toEqual([{ n: 0 }]);

    const done = await agent.post('/admin/campaigns/addresses/suppress').type('form').send({ _csrf: csrfFrom(page.text), email: 'hanamura@example.jp', note: 'asked by phone' });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/admin/campaigns/addresses?q=hanamura%40example.jp&notice=suppressed');
    expect(await knex('portal.suppressions').where({ email_key: 'hanamura@example.jp' }).first()).toMatchObject({ reason: 'manual' });
    const shown = await agent.get(`${done.headers.location}&lang=en`);
    expect(shown.text).toContain('The address is suppressed (recorded in the audit log).');
    expect(shown.text).toMatch(/data-suppressed="true">Suppressed since .* \(reason: suppressed by an admin\)/);

    const lifted = await agent.post('/admin/campaigns/addresses/unsuppress').type('form').send({ _csrf: csrfFrom(shown.text), email: 'hanamura@example.jp' });
    expect(lifted.headers.location).toContain('notice=unsuppressed');
    expect(await knex('portal.suppressions').where({ email_key: 'hanamura@example.jp' }).first()).toBeUndefined();
    const audit = await knex('portal.audit_log').whereIn('action', ['campaigns.address_suppress', 'campaigns.address_unsuppress']).orderBy('id').select('actor', 'action', 'target');
    expect(audit).toEqual([
      { actor: expect.stringContaining(admin.display_id), action: 'campaigns.address_suppress', target: 'address:hanamura@example.jp' },
      { actor: expect.stringContaining(admin.display_id), action: 'campaigns.address_unsuppress', target: 'address:hanamura@example.jp' },
    ]);
  });

  it('is for staff only', async () => {
    const user = await buildUser(portal.ctx.knex);
    const agent = await signedInAgent(portal, user.display_id, user.password);
    expect((await agent.get('/admin/campaigns/addresses?q=hana')).status).toBe(403);
    expect((await portal.agent().get('/admin/campaigns/addresses')).status).toBe(303);
  });

  it('reads well in Chromium on a desktop (ja) and a phone (en)', async () => {
    const base = await portal.listen();
    await onEachScreen(async (page, lang, device) => {
      await page.goto(`${base}/login`);
      await page.locator('input[name="login"]').fill(admin.display_id);
      await page.locator('input[name="password"]').fill(admin.password);
      await page.locator('form button[type="submit"]').first().click();
      await page.waitForURL((u) => !u.pathname.startsWith('/login'));
      await page.goto(`${base}/admin/campaigns/addresses?lang=${lang}`);
      await page.locator('#q').fill('hanako@example.jp');
      await page.locator('form[role="search"] button').click();
      await page.waitForSelector('#address-detail');
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
      await page.screenshot({ path: artifact(`campaigns-address-book-${lang}-${device}.png`), fullPage: true });
    });
  }, 60_000);
});
