import { signedInAgent, csrfFrom } from '../support/portal';
import { buildUser, type BuiltUser } from '../support/factories';
import { parseNoticeInput } from '../../src/features/notice/schema';
import { createNotice } from '../../src/features/notice/service';
import { backupNow } from '../../src/features/backups/service';
import { importCandidates } from '../../src/features/campaigns/addresses/service';
import { usePortal } from '../support/portal-stack';

type Agent = Awaited<ReturnType<typeof signedInAgent>>;

const TOYBOX = 'https://toybox.example';

/** The state a line shows on /admin/recovery, read from the page as a browser gets it. */
async function stateOf(agent: Agent, item: string): Promise<{ state: string; text: string }> {
  const res = await agent.get('/admin/recovery');
  expect(res.status).toBe(200);
  const m = new RegExp(`data-item="${item}" data-state="([a-z]+)">([\\s\\S]*?)</li>`).exec(res.text);
  if (!m) throw new Error(`no line ${item} on the page`);
  const detail = /<p class="recovery-detail">([\s\S]*?)<\/p>/.exec(m[2]!)?.[1] ?? '';
  return { state: m[1]!, text: detail.replace(/&#34;/g, '"').replace(/&amp;/g, '&') };
}

function noticeInput(severity: 'warning' | 'critical') {
  const r = parseNoticeInput({ kind: 'incident', severity, title_ja: 'データベース障害', body_ja: '復旧作業中です' });
  if (!r.ok) throw new Error('bad notice input');
  return r.value;
}

describe('/admin/recovery: each line follows its condition', () => {
  const web = usePortal({ smtp: true, env: { TOYBOX_URL: TOYBOX, METRICS_TOKEN: 'scrape-token-for-the-checklist-test' } });
  let admin: BuiltUser;
  let agent: Agent;

  beforeAll(async () => {
    admin = await buildUser(web.portal.ctx.knex, { is_staff: true, is_superuser: true });
    agent = await signedInAgent(web.portal, admin.display_id, admin.password);
  });

  it('is for staff only', async () => {
    const member = await buildUser(web.portal.ctx.knex);
    const memberAgent = await signedInAgent(web.portal, member.display_id, member.password);
    expect((await memberAgent.get('/admin/recovery')).status).toBe(403);
    expect((await web.portal.agent().get('/admin/recovery')).headers.location).toBe('/login?next=%2Fadmin%2Frecovery');
  });

  it('admin: the superuser exists and has signed in (last_login)', async () => {
    const line = await stateOf(agent, 'admin');
    expect(line.state).toBe('done');
    expect(line.text).toMatch(/スーパーユーザー 1 人。最後のサインイン: \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}（日本時間）/);
  });

  it('notice: none -> published (not yet seen) -> seen from TOYBOX origin; a critical incident sends /admin here', async () => {
    expect((await stateOf(agent, 'notice')).state).toBe('todo');
    expect((await agent.get('/admin')).status).toBe(200);

    await createNotice(web.portal.ctx, noticeInput('critical'), { label: 'test', userId: null }, { publish: true });
    const published = await stateOf(agent, 'notice');
    expect(published.state).toBe('warn');
    expect(published.text).toContain('バナーがまだ読み込まれていません');

    // A page on another origin loads the banner: still not TOYBOX.
    await web.portal.agent().get('/banner.js').set('Referer', 'https://www.toybox.example/').expect(200);
    const elsewhere = await stateOf(agent, 'notice');
    expect(elsewhere.state).toBe('warn');
    expect(elsewhere.text).toContain('https://www.toybox.example');

    // TOYBOX's page loads banner.js with a plain <script src>: only Referer carries its origin.
    await web.portal.agent().get('/banner.js').set('Referer', `${TOYBOX}/posts/12`).expect(200);
    const seen = await stateOf(agent, 'notice');
    expect(seen.state).toBe('done');
    expect(seen.text).toContain(`TOYBOX（${TOYBOX}）のページがバナーを読み込みました`);

    const landing = await agent.get('/admin');
    expect(landing.status).toBe(303);
    expect(landing.headers.location).toBe('/admin/recovery');
    const stay = await agent.get('/admin?stay=1');
    expect(stay.status).toBe(200);
    expect(stay.text.indexOf('href="/admin/recovery"')).toBeLessThan(stay.text.indexOf('href="/admin/backups"'));
  });

  it('database backup: missing -> good (drill passed) -> stale', async () => {
    const missing = await stateOf(agent, 'backup_database');
    expect(missing.state).toBe('todo');
    const backup = (await backupNow(web.portal.ctx, 'database', { trigger: 'test' }))!;
    expect(backup.status).toBe('good');
    const good = await stateOf(agent, 'backup_database');
    expect(good.state).toBe('done');
    expect(good.text).toContain(`最新の正常なバックアップ #${backup.id}`);
    expect(good.text).toContain('復元訓練成功');
    // Thirty hours pass (BACKUP_STALE_HOURS defaults to 26).
    await web.portal.ctx.knex('portal.backups').where({ id: backup.id }).update({
      started_at: web.portal.ctx.knex.raw(`started_at - interval '30 hours'`),
      finished_at: web.portal.ctx.knex.raw(`finished_at - interval '30 hours'`),
    });
    const stale = await stateOf(agent, 'backup_database');
    expect(stale.state).toBe('warn');
    expect(stale.text).toContain('30 時間前');
  });

  it('addresses: none -> imported, with the source named', async () => {
    expect((await stateOf(agent, 'addresses')).state).toBe('todo');
    await importCandidates(web.portal.ctx.knex, [{ line: 1, raw: 'old-member@example.com' }, { line: 2, raw: 'another@example.com' }], 'discord-export');
    const line = await stateOf(agent, 'addresses');
    expect(line.state).toBe('done');
    expect(line.text).toBe('2 件のアドレス。取り込み元: discord-export (2)');
    expect((await stateOf(agent, 'invitations')).state).toBe('todo');
  });

  it('alerts: configured -> a test alert (CSRF-protected, audited) reaches the superusers', async () => {
    const before = await stateOf(agent, 'alerts');
    expect(before.state).toBe('warn');
    const page = await agent.get('/admin/recovery');
    expect((await agent.post('/admin/backups/test-alert').type('form').send({ next: '/admin/recovery' })).status).toBe(403);
    const res = await agent.post('/admin/backups/test-alert').type('form').send({ _csrf: csrfFrom(page.text), next: '/admin/recovery' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/recovery?done=test_alert_sent');
    const [mail] = await web.sink.waitFor(1);
    expect(mail!.envelopeTo).toEqual([admin.email]);
    expect(mail!.parsed.subject).toBe('[TOYBOX ポータル] テスト通知 / [TOYBOX portal] Test alert');
    const after = await stateOf(agent, 'alerts');
    expect(after.state).toBe('done');
    expect(after.text).toContain('1 件の宛先が受け付けました');
    const audit = await web.portal.ctx.knex('portal.audit_log').where({ action: 'alert.test' });
    expect(audit).toHaveLength(1);
    expect(audit[0].actor).toBe(`user:${admin.id}:${admin.display_id}`);
  });

  it('metrics: never scraped -> scraped', async () => {
    expect((await stateOf(agent, 'metrics')).state).toBe('todo');
    await web.portal.agent().get('/metrics').set('Authorization', 'Bearer scrape-token-for-the-checklist-test').expect(200); // as Prometheus scrapes
    expect((await stateOf(agent, 'metrics')).state).toBe('done');
  });

  it('salvage: nothing catalogued -> a source catalogued; claims: none -> one waiting for staff', async () => {
    expect((await stateOf(agent, 'salvage')).state).toBe('todo');
    await web.portal.ctx.knex('portal.salvage_sources').insert({ kind: 'media', locator: '/srv/uploads', fingerprint: 'checklist-test', status: 'complete', finished_at: new Date() });
    expect((await stateOf(agent, 'salvage')).state).toBe('done');
    expect((await stateOf(agent, 'claims')).state).toBe('todo');
    const claimant = await buildUser(web.portal.ctx.knex, { display_id: 'claimant_x' });
    await web.portal.ctx.knex('portal.claims').insert({ user_id: claimant.id, old_user_id: 42, level: 6, old_display_id: 'oldie' });
    const waiting = await stateOf(agent, 'claims');
    expect(waiting.state).toBe('warn');
    expect(waiting.text).toContain('スタッフの確認待ちが 1 件あります');
  });

  it('hand-ticked lines record who and when, are audited, and can be unticked', async () => {
    expect((await stateOf(agent, 'vps_snapshots')).state).toBe('todo');
    const page = await agent.get('/admin/recovery');
    const csrf = csrfFrom(page.text);
    expect((await agent.post('/admin/recovery/items/vps_snapshots/tick').type('form').send({ note: 'no token' })).status).toBe(403);
    const tick = await agent.post('/admin/recovery/items/vps_snapshots/tick').type('form').send({ _csrf: csrf, note: 'さくらの管理画面で毎日' });
    expect(tick.status).toBe(303);
    const ticked = await stateOf(agent, 'vps_snapshots');
    expect(ticked.state).toBe('done');
    expect(ticked.text).toContain(`user:${admin.id}:${admin.display_id} がチェックしました`);
    // Ticking twice changes nothing and audits once.
    await agent.post('/admin/recovery/items/vps_snapshots/tick').type('form').send({ _csrf: csrf }).expect(303);
    // A line the portal checks itself cannot be ticked by hand.
    expect((await agent.post('/admin/recovery/items/backup_database/tick').type('form').send({ _csrf: csrf })).status).toBe(404);
    expect((await agent.post('/admin/recovery/items/vps_snapshots/tick').type('form').send({ _csrf: csrf, note: 'x'.repeat(201) })).status).toBe(422);
    await agent.post('/admin/recovery/items/vps_snapshots/untick').type('form').send({ _csrf: csrf }).expect(303);
    expect((await stateOf(agent, 'vps_snapshots')).state).toBe('todo');
    const audit = await web.portal.ctx.knex('portal.audit_log').where({ target: 'recovery:vps_snapshots' }).orderBy('id');
    expect(audit.map((a) => [a.action, a.actor])).toEqual([
      ['recovery.tick', `user:${admin.id}:${admin.display_id}`],
      ['recovery.untick', `user:${admin.id}:${admin.display_id}`],
    ]);
    expect(audit[0].details).toEqual({ note: 'さくらの管理画面で毎日' });
  });

  it('speaks English when asked', async () => {
    const res = await agent.get('/admin/recovery?lang=en');
    expect(res.text).toContain('<h1>Recovery checklist</h1>');
  });
});
