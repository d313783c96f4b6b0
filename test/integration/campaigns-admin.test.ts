import { confirm } from '../support/confirm';
import { csrfFrom, signedInAgent } from '../support/portal';
import { useTestPortal } from '../support/portal-stack';
import { buildUser } from '../support/factories';
import { importCandidates } from '../../src/features/campaigns/addresses/service';
import { startDueCampaigns, getCampaign } from '../../src/features/campaigns/lifecycle/service';
import { workQueues } from '../support/background';
import { eventually } from '../support/eventually';

const portal = useTestPortal(); // no SMTP_URL: the outbox

async function signIn(staff: boolean) {
  const u = await buildUser(portal.ctx.knex, { is_staff: staff });
  return { agent: await signedInAgent(portal, u.display_id, u.password), user: u };
}

const form = (over: Record<string, string> = {}) => ({
  name: 'spring invitation',
  subject_ja: 'TOYBOX 再登録のお願い',
  text_ja: '{{display_name}} 様\n{{link}}',
  rate_per_minute: '30',
  concurrency: '2',
  pause_after_failures: '5',
  ...over,
});

describe('campaign admin pages', () => {
  it('are for staff only', async () => {
    expect((await portal.agent().get('/admin/campaigns')).status).toBe(303);
    const { agent } = await signIn(false);
    expect((await agent.get('/admin/campaigns')).status).toBe(403);
    expect((await agent.get('/admin/mail/captured')).status).toBe(403);
  });

  it('reject a template with an unknown variable or a missing link, beside the field, with 422', async () => {
    const { agent } = await signIn(true);
    const page = await agent.get('/admin/campaigns/new').expect(200);
    const bad = await agent.post('/admin/campaigns').type('form').send({ _csrf: csrfFrom(page.text), ...form({ text_ja: 'こんにちは {{nmae}}', subject_en: 'Hi', text_en: 'no link' }) });
    expect(bad.status).toBe(422);
    expect(bad.text).toMatch(/id="text_ja-error">未知の変数 \{\{nmae\}\}/);
    expect(bad.text).toMatch(/id="text_en-error">個人用リンク \{\{link\}\}/);
    expect(bad.text).toContain('こんにちは {{nmae}}'); // what was typed is kept
    const empty = await agent.post('/admin/campaigns').type('form').send({ _csrf: csrfFrom(page.text), ...form({ name: '', concurrency: '99' }) });
    expect(empty.status).toBe(422);
    expect(empty.text).toMatch(/id="name-error">入力してください。/);
    expect(empty.text).toMatch(/id="concurrency-error">1〜50/);
  });

  it('create, schedule, start when due, pause, resume, cancel; wrong-state actions answer 409', async () => {
    await importCandidates(portal.ctx.knex, [{ line: 1, raw: 'someone@example.jp' }], 'test');
    const { agent } = await signIn(true);
    const page = await agent.get('/admin/campaigns/new');
    const csrf = csrfFrom(page.text);
    const created = await agent.post('/admin/campaigns').type('form').send({ _csrf: csrf, ...form() }).expect(303);
    const id = Number(/(\d+)$/.exec(created.headers.location!)![1]);
    const show = await agent.get(`/admin/campaigns/${id}`).expect(200);
    expect(show.text).toContain('下書き');
    // The schedule form carries its own CSRF token (a form without one would be refused with 403).
    expect(show.text).toMatch(new RegExp(`<form method="post" action="/admin/campaigns/${id}/schedule"[^>]*>\\s*<input type="hidden" name="_csrf" value="[^"]+">`));

    const unreadable = await agent.post(`/admin/campaigns/${id}/schedule`).type('form').send({ _csrf: csrf, at: 'next tuesday' });
    expect(unreadable.status).toBe(422);
    expect(unreadable.text).toMatch(/<p class="field-error" id="at-error">日時を正しく入力してください。<\/p>/);
    expect((await getCampaign(portal.ctx.knex, id))!.status).toBe('draft');
    await agent.post(`/admin/campaigns/${id}/schedule`).type('form').send({ _csrf: csrf, at: '2020-01-01T09:00' }).expect(303);
    expect((await getCampaign(portal.ctx.knex, id))!).toMatchObject({ status: 'scheduled', scheduled_at: new Date('2020-01-01T00:00:00Z') });
    expect(await startDueCampaigns(portal.ctx.knex)).toEqual([id]);

    await agent.post(`/admin/campaigns/${id}/pause`).type('form').send({ _csrf: csrf }).expect(303);
    const paused = await agent.get(`/admin/campaigns/${id}/progress.json`).expect(200);
    expect(paused.body).toMatchObject({ status: 'paused', total: 1, queued: 1 });
    expect(paused.body.pause_reason).toMatch(/^paused by user:/);
    expect((await agent.post(`/admin/campaigns/${id}/pause`).type('form').send({ _csrf: csrf })).status).toBe(303); // already paused: no-op
    await agent.post(`/admin/campaigns/${id}/resume`).type('form').send({ _csrf: csrf }).expect(303);
    // cancel asks first: the first POST only shows what will stop
    const asked = await agent.post(`/admin/campaigns/${id}/cancel`).type('form').send({ _csrf: csrf }).expect(200);
    expect(asked.text).toContain('送信済み 0 通。未送信の 1 通は送信されません。');
    expect((await getCampaign(portal.ctx.knex, id))!.status).toBe('sending');
    await confirm(agent, asked).expect(303);
    const again = await agent.post(`/admin/campaigns/${id}/resume`).type('form').send({ _csrf: csrf });
    expect(again.status).toBe(409);
    expect(again.text).toContain('中止');
    expect((await agent.post(`/admin/campaigns/${id}/edit`).type('form').send({ _csrf: csrf, ...form() })).status).toBe(409);
    const audit = await portal.ctx.knex('portal.audit_log').where('target', `campaign:${id}`).orderBy('id').pluck('action');
    expect(audit).toEqual(['campaigns.create', 'campaigns.schedule', 'campaigns.pause', 'campaigns.resume', 'campaigns.cancel']);
  });

  it('blocks an address by hand and shows test messages in the captured-mail viewer', async () => {
    const { agent, user } = await signIn(true);
    const dashboard = await agent.get('/admin').expect(200);
    expect(dashboard.text).toMatch(/<h2>再登録キャンペーン<\/h2>\s*<p>登録済みアドレス \d+ 件<\/p>/);
    const page = await agent.get('/admin/campaigns');
    const csrf = csrfFrom(page.text);
    const refused = await agent.post('/admin/campaigns/suppressions').type('form').send({ _csrf: csrf, email: 'block at example' });
    expect(refused.status).toBe(422); // beside the box, nothing blocked
    expect(refused.text).toMatch(/id="block-email" name="email"[^>]*aria-invalid="true"[^>]*>[\s\S]*<p class="field-error" id="email-error">メールアドレスの形式が正しくありません。/);
    await agent.post('/admin/campaigns/suppressions').type('form').send({ _csrf: csrf, email: 'ＢＬＯＣＫ＠Example.com' }).expect(303);
    expect(await portal.ctx.knex('portal.suppressions').count<{ n: string }[]>({ n: '*' })).toEqual([{ n: 1 }]);
    expect(await portal.ctx.knex('portal.suppressions').where({ email_key: 'block@example.com' }).first()).toMatchObject({ reason: 'manual' });

    const created = await agent.post('/admin/campaigns').type('form').send({ _csrf: csrf, ...form({ name: 'outbox check' }) }).expect(303);
    // Only the test-send queue is worked here: the other campaigns of this file must not start sending.
    const stop = await workQueues(portal.ctx, ['campaignTestSend']);
    let listText = '';
    try {
      const sent = await agent.post(`${created.headers.location}/test-send`).type('form').send({ _csrf: csrf, lang: 'ja' }).expect(303);
      expect(sent.headers.location).toMatch(/notice=test_sent$/);
      await eventually(async () => (listText = (await agent.get('/admin/mail/captured').expect(200)).text).includes(user.email), 15_000);
    } finally {
      await stop();
    }
    const audit = await portal.ctx.knex('portal.audit_log').where({ action: 'campaigns.test_send', actor: `user:${user.id}:${user.display_id}` });
    expect(audit).toHaveLength(1);
    const name = /href="\/admin\/mail\/captured\/([\w.-]+\.eml)"/.exec(listText)![1];
    const msg = await agent.get(`/admin/mail/captured/${name}`).expect(200);
    expect(msg.text).toContain('[TEST] TOYBOX 再登録のお願い');
    expect(msg.text).toContain('List-Unsubscribe=One-Click');
    const html = await agent.get(`/admin/mail/captured/${name}?part=html`).expect(200);
    expect(html.headers['content-security-policy']).toContain('sandbox');
    expect((await agent.get('/admin/mail/captured/..%2Fsession-secret')).status).toBe(404);
    expect((await agent.get(`/admin/mail/captured/${name}?part=raw`)).status).toBe(422); // only ?part=html
  });
});
