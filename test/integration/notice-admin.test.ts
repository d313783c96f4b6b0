import { startTestPortal, csrfFrom, type TestPortal, signedInAgent } from '../support/portal';
import { buildUser } from '../support/factories';
import { confirm } from '../support/confirm';

describe('notice admin: create, preview, publish, timeline, resolve, mirror', () => {
  let portal: TestPortal;
  let staff: ReturnType<TestPortal['agent']>;

  async function signIn(opts: { is_staff: boolean }) {
    const u = await buildUser(portal.ctx.knex, { is_staff: opts.is_staff });
    return signedInAgent(portal, u.display_id, u.password);
  }

  async function postForm(path: string, fields: Record<string, string>, formPage = '/admin/notices/new') {
    const page = await staff.get(formPage);
    const res = await staff.post(path).type('form').send({ _csrf: csrfFrom(page.text), ...fields });
    // publishing and resolving ask first: press the confirmation page's button, as the admin would
    return res.status === 200 && res.text.includes('name="confirm" value="1"') ? confirm(staff, res) : res;
  }

  const incident = {
    kind: 'incident',
    severity: 'critical',
    state: 'investigating',
    title_ja: 'ログインできない障害',
    title_en: 'Sign-in outage',
    body_ja: '**調査中**です。詳細は [告知](https://example.com/info) を参照。',
    body_en: 'We are **investigating**.',
  };

  beforeAll(async () => {
    portal = await startTestPortal({ TOYBOX_URL: 'http://toybox.test:8000' });
    staff = await signIn({ is_staff: true });
  });
  afterAll(() => portal.close());

  it('keeps the pages for staff only', async () => {
    const anon = await portal.agent().get('/admin/notices');
    expect(anon.status).toBe(303);
    expect(anon.headers.location).toContain('/login');
    const member = await signIn({ is_staff: false });
    expect((await member.get('/admin/notices')).status).toBe(403);
    const page = await postForm('/admin/notices', { ...incident, action: 'publish' });
    expect(page.status).toBe(303);
    const forged = await member.post('/admin/notices').type('form').send({ ...incident, action: 'publish' });
    expect(forged.status).toBe(403);
  });

  it('refuses a post without the CSRF token', async () => {
    const res = await staff.post('/admin/notices').type('form').send({ ...incident, action: 'publish' });
    expect(res.status).toBe(403);
  });

  it('re-renders the form with 422 and messages beside the fields', async () => {
    const res = await postForm('/admin/notices', { kind: 'maintenance', severity: 'loud', title_ja: '', body_ja: '', starts_at: '2026-12-01T04:00', ends_at: '2026-12-01T02:00', action: 'publish' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('id="title_ja-error"');
    expect(res.text).toContain('タイトル（日本語）を入力してください。');
    expect(res.text).toContain('重要度は info / warning / critical のいずれかです。');
    expect(res.text).toContain('終了は開始より後にしてください。');
  });

  it('an edit or a timeline update with bad input re-renders the notice page with 422; an unknown notice is 404', async () => {
    const created = await postForm('/admin/notices', { ...incident, title_ja: '編集の検証', action: 'publish' });
    const id = Number(/\/admin\/notices\/(\d+)/.exec(created.headers.location)![1]);
    const edit = await postForm(`/admin/notices/${id}`, { ...incident, title_ja: '', ends_at: '2026-12-01T02:00', starts_at: '2026-12-01T04:00', action: 'draft' }, `/admin/notices/${id}`);
    expect(edit.status).toBe(422);
    expect(edit.text).toContain('タイトル（日本語）を入力してください。');
    expect(edit.text).toContain('終了は開始より後にしてください。');
    expect(edit.text).toContain(`/admin/notices/${id}/updates`);
    const update = await postForm(`/admin/notices/${id}/updates`, { state: 'identified', body_ja: '' }, `/admin/notices/${id}`);
    expect(update.status).toBe(422);
    expect(update.text).toContain('id="update_body_ja-error"');
    expect((await portal.ctx.knex('portal.notices').where({ id }).first()).title_ja).toBe('編集の検証');
    const unknown = await postForm('/admin/notices/999999', { ...incident, title_ja: '' }, `/admin/notices/${id}`);
    expect(unknown.status).toBe(404);
  });

  it('previews the banner and status entry without saving or bumping the version', async () => {
    const before = await portal.ctx.knex('portal.notices').count<{ count: string }[]>('* as count');
    const res = await postForm('/admin/notices', { ...incident, action: 'preview' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('プレビュー（公開後の表示そのまま）');
    expect(res.text).toContain('class="tbx-notice tbx-critical" role="alert"');
    expect(res.text).toContain('<strong>調査中</strong>');
    expect(res.text).toContain('We are <strong>investigating</strong>.');
    const after = await portal.ctx.knex('portal.notices').count<{ count: string }[]>('* as count');
    expect(after[0]!.count).toBe(before[0]!.count);
  });

  it('publishes, shows it on the API and status page, records the audit, then resolves it', async () => {
    const res = await postForm('/admin/notices', { ...incident, title_ja: '決済の障害', action: 'publish' });
    expect(res.status).toBe(303);
    const id = Number(/\/admin\/notices\/(\d+)/.exec(res.headers.location)![1]);
    const api = await portal.agent().get('/api/notice');
    const mine = api.body.notices.find((n: { id: number }) => n.id === id);
    expect(mine).toMatchObject({ severity: 'critical', state: 'investigating', title: { ja: '決済の障害', en: 'Sign-in outage' } });
    expect(mine.message.ja).toContain('rel="noopener noreferrer"');
    expect(mine.version).toBe(api.body.version);

    const update = await postForm(`/admin/notices/${id}/updates`, { state: 'identified', body_ja: '原因を特定しました。', body_en: 'Cause identified.' }, `/admin/notices/${id}`);
    expect(update.status).toBe(303);
    const api2 = await portal.agent().get('/api/notice');
    const mine2 = api2.body.notices.find((n: { id: number }) => n.id === id);
    expect(api2.body.version).toBeGreaterThan(api.body.version);
    expect(mine2.state).toBe('identified');
    expect(mine2.message.en).toContain('Cause identified.');

    const status = await portal.agent().get('/status?lang=en');
    expect(status.status).toBe(200);
    expect(status.text).toContain('Ongoing incidents');
    expect(status.text).toContain('Cause identified.');

    const resolve = await postForm(`/admin/notices/${id}/resolve`, {}, `/admin/notices/${id}`);
    expect(resolve.status).toBe(303);
    const api3 = await portal.agent().get('/api/notice');
    expect(api3.body.notices.find((n: { id: number }) => n.id === id)).toBeUndefined();
    const history = await portal.agent().get('/status');
    expect(history.text).toContain('過去90日間');
    expect(history.text).toContain('この障害は解決しました。');
    const feed = await portal.agent().get('/status.atom?lang=en');
    expect(feed.headers['content-type']).toContain('application/atom+xml');
    expect(feed.text).toContain('[Resolved] Sign-in outage');
    expect(feed.text).toContain('[Identified] Sign-in outage');

    const audit = await portal.ctx.knex('portal.audit_log').where({ target: `notice:${id}` }).orderBy('id');
    expect(audit.map((a) => a.action)).toEqual(['notice.create', 'notice.publish', 'notice.update', 'notice.update']);
    expect(audit[0].actor).toMatch(/^user:\d+:user_/);
    const edit = await staff.get(`/admin/notices/${id}`);
    expect(edit.text).toContain('notice.publish');
  });

  it('keeps the affected components through the confirmation step, and refuses an unknown one', async () => {
    const res = await postForm('/admin/notices', { ...incident, title_ja: '部品の障害', components: ['sign_in', 'cards'] as unknown as string, action: 'publish' });
    expect(res.status).toBe(303);
    const id = Number(/\/admin\/notices\/(\d+)/.exec(res.headers.location)![1]);
    expect((await portal.ctx.knex('portal.notices').where({ id }).first()).components).toEqual(['sign_in', 'cards']);
    const status = await portal.agent().get('/status');
    expect(status.text).toMatch(/data-component="sign_in"><span class="notice-component-name">ログイン<\/span> <span class="notice-component-state">重大な障害<\/span>/);
    expect(status.text).toMatch(/data-component="uploads"><span class="notice-component-name">[^<]+<\/span> <span class="notice-component-state">正常<\/span>/);
    const bad = await postForm('/admin/notices', { ...incident, components: 'database', action: 'publish' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('影響する機能の指定が正しくありません。');
  });

  it('saves a draft that stays off the banner until published', async () => {
    const res = await postForm('/admin/notices', { ...incident, title_ja: '下書きのお知らせ', action: 'draft' });
    const id = Number(/\/admin\/notices\/(\d+)/.exec(res.headers.location)![1]);
    expect((await portal.agent().get('/api/notice')).body.notices.some((n: { id: number }) => n.id === id)).toBe(false);
    const edit = await postForm(`/admin/notices/${id}`, { ...incident, title_ja: '公開したお知らせ', severity: 'warning', action: 'publish' }, `/admin/notices/${id}`);
    expect(edit.status).toBe(303);
    const api = await portal.agent().get('/api/notice');
    expect(api.body.notices.find((n: { id: number }) => n.id === id)).toMatchObject({ title: { ja: '公開したお知らせ' }, severity: 'warning' });
  });

  it('neutralises script, javascript: links and event handlers in Markdown', async () => {
    const evil = [
      '<script>alert(1)</script>',
      '[click](javascript:alert(2))',
      '[also](JaVaScRiPt&#58;alert(3))',
      '<img src=x onerror="alert(4)">',
      '<a href="https://x.test" onclick="alert(5)">x</a>',
      '[data](data:text/html;base64,PHNjcmlwdD5hbGVydCg2KTwvc2NyaXB0Pg==)',
      '![pixel](https://tracker.test/p.gif)',
      '[fine](https://toybox.test/help)',
    ].join('\n\n');
    const res = await postForm('/admin/notices', { ...incident, title_ja: '<b>title</b>', body_ja: evil, body_en: evil, action: 'publish' });
    const id = Number(/\/admin\/notices\/(\d+)/.exec(res.headers.location)![1]);
    const api = await portal.agent().get('/api/notice');
    const n = api.body.notices.find((x: { id: number }) => x.id === id);
    for (const html of [n.message.ja, n.message.en]) {
      expect(html).not.toMatch(/<script/i);
      expect(html).not.toMatch(/<img/i);
      expect(html).not.toMatch(/href="(javascript|data):/i);
      expect(html).not.toMatch(/<[^>]+\son\w+=/i);
      expect(html).toContain('&lt;script&gt;');
      expect(html).toContain('<a href="https://toybox.test/help" rel="noopener noreferrer" target="_blank">fine</a>');
    }
    const fragment = await portal.agent().get('/banner.html');
    expect(fragment.text).toContain('&lt;b&gt;title&lt;/b&gt;');
    expect(fragment.text).not.toMatch(/<script/i);
    const status = await portal.agent().get('/status');
    expect(status.text).not.toMatch(/<script>alert/);
    expect(status.text).not.toContain('href="javascript:');
  });

  it('mirrors into TOYBOX announcements and site_maintenance, and removes only what it wrote', async () => {
    const knex = portal.ctx.knex;
    const [{ id: otherAnn }] = await knex('public.announcements')
      .insert({ title: '既存のお知らせ', content: 'x', is_active: true, created_at: knex.fn.now(), updated_at: knex.fn.now() })
      .returning('id');
    const [{ id: siteRow }] = await knex('public.site_maintenance')
      .insert({ enabled: false, message: '前のメッセージ', scheduled_end: null, updated_at: knex.fn.now() })
      .returning('id');
    const res = await postForm('/admin/notices', {
      kind: 'maintenance', severity: 'warning', state: 'scheduled', title_ja: 'DB メンテナンス', body_ja: '停止します', starts_at: '2026-12-01T02:00', ends_at: '2026-12-01T04:00', mirror: 'on', action: 'publish',
    });
    const id = Number(/\/admin\/notices\/(\d+)/.exec(res.headers.location)![1]);
    const stored = await knex('portal.notices').where({ id }).first();
    expect(stored.starts_at.toISOString()).toBe('2026-11-30T17:00:00.000Z'); // 02:00 Japan time, stored UTC
    const ann = await knex('public.announcements').where({ title: 'DB メンテナンス' });
    expect(ann).toHaveLength(1);
    expect(ann[0].is_active).toBe(true);
    expect((await knex('public.site_maintenance').where({ id: siteRow }).first()).enabled).toBe(false);

    await postForm(`/admin/notices/${id}/updates`, { state: 'in_progress', body_ja: '開始しました' }, `/admin/notices/${id}`);
    const site = await knex('public.site_maintenance').where({ id: siteRow }).first();
    expect(site.enabled).toBe(true);
    expect(site.message).toContain('DB メンテナンス');
    expect(site.scheduled_end.toISOString()).toBe('2026-11-30T19:00:00.000Z');

    const off = await postForm(`/admin/notices/${id}/mirror`, { mirror: 'off' }, `/admin/notices/${id}`);
    expect(off.status).toBe(303);
    expect(await knex('public.announcements').where({ title: 'DB メンテナンス' })).toHaveLength(0);
    expect(await knex('public.announcements').where({ id: otherAnn })).toHaveLength(1);
    const restored = await knex('public.site_maintenance').where({ id: siteRow }).first();
    expect(restored).toMatchObject({ enabled: false, message: '前のメッセージ', scheduled_end: null });
    const actions = (await knex('portal.audit_log').where({ target: `notice:${id}` })).map((a) => a.action);
    expect(actions).toContain('notice.mirror_off');
  });

  it('shows a dashboard panel', async () => {
    // A critical incident is up, so /admin itself opens the recovery checklist first; ?stay=1 is the dashboard.
    expect((await staff.get('/admin')).headers.location).toBe('/admin/recovery');
    const res = await staff.get('/admin?stay=1');
    expect(res.status).toBe(200);
    expect(res.text).toContain('href="/admin/notices"');
    expect(res.text).toMatch(/表示中: \d+ 件/);
  });
});
