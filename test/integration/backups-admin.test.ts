import { startTestPortal, csrfFrom, type TestPortal, signedInAgent } from '../support/portal';
import { buildUser } from '../support/factories';
import { insertSubmissionRow } from '../../src/toybox/rows';
import { backupNow } from '../../src/features/backups/service';
import { feature } from '../../src/features/backups';
import { startBackground } from '../../src/jobs/runner';
import { eventuallyValue } from '../support/eventually';

describe('admin: /admin/backups and the dashboard panel', () => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal();
  });
  const afterThis: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const stop of afterThis) await stop();
    await portal.close();
  });

  const signIn = (login: string, password: string) => signedInAgent(portal, login, password);

  it('shows a suspect backup, and acknowledging it is audited with the admin as actor', async () => {
    const admin = await buildUser(portal.ctx.knex, { is_staff: true, is_superuser: true });
    const member = await buildUser(portal.ctx.knex);
    for (const title of ['a', 'b', 'c']) await insertSubmissionRow(portal.ctx.knex, { author_id: member.id, title });
    const good = await backupNow(portal.ctx, 'database', { trigger: 'test' });
    expect(good!.status).toBe('good');
    await portal.ctx.knex.raw('TRUNCATE public.submissions CASCADE');
    const suspect = await backupNow(portal.ctx, 'database', { trigger: 'test' });
    expect(suspect!.status).toBe('suspect');

    const memberAgent = await signIn(member.display_id, member.password);
    expect((await memberAgent.get('/admin/backups')).status).toBe(403);

    const agent = await signIn(admin.display_id, admin.password);
    const dashboard = await agent.get('/admin');
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('要確認のバックアップがあります');
    expect(dashboard.text).toContain('submissions: 3 -&gt; 0');

    const page = await agent.get('/admin/backups?lang=en');
    expect(page.status).toBe(200);
    expect(page.text).toContain('A backup needs checking');
    expect(page.text).toContain(`data-status="suspect"`);
    expect(page.text).toContain('Restore drills');
    expect(page.text).toContain(`action="/admin/backups/${suspect!.id}/acknowledge"`);

    const noToken = await agent.post(`/admin/backups/${suspect!.id}/acknowledge`).type('form').send({});
    expect(noToken.status).toBe(403);
    const ack = await agent.post(`/admin/backups/${suspect!.id}/acknowledge`).type('form').send({ _csrf: csrfFrom(page.text) });
    expect(ack.status).toBe(303);
    expect(ack.headers.location).toBe('/admin/backups?done=acknowledged');
    const after = await agent.get(`${ack.headers.location}&lang=en`);
    expect(after.text).toContain('Acknowledged.');
    expect(after.text).not.toContain('A backup needs checking');

    const audit = await portal.ctx.knex('portal.audit_log').where({ action: 'backup.acknowledge' });
    expect(audit).toHaveLength(1);
    expect(audit[0].actor).toBe(`user:${admin.id}:${admin.display_id}`);
    expect(audit[0].details.reasons).toEqual(['submissions: 3 -> 0']);

    const again = await agent.post(`/admin/backups/${suspect!.id}/acknowledge`).type('form').send({ _csrf: csrfFrom(after.text) });
    expect(again.status).toBe(409);
  });

  it('starts a backup from the button and shows it when done', async () => {
    const admin = await buildUser(portal.ctx.knex, { is_staff: true });
    const agent = await signIn(admin.display_id, admin.password);
    const page = await agent.get('/admin/backups');
    // The button queues the backup; a worker takes it (timers off: no schedule or alert check interferes).
    const stopWorker = await startBackground(portal.ctx, [feature], { timers: false });
    afterThis.push(stopWorker);
    const res = await agent.post('/admin/backups/run').type('form').send({ _csrf: csrfFrom(page.text), kind: 'database' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin/backups?done=started');
    const trigger = `admin:${admin.display_id}`;
    const row = await eventuallyValue<{ id: number; status: string } | undefined>(
      () => portal.ctx.knex('portal.backups').where({ trigger }).whereNot({ status: 'running' }).first(),
      (r) => r !== undefined,
      30_000,
      200,
    );
    expect(row?.status).toBe('good');
    const after = await agent.get('/admin/backups');
    expect(after.text).toMatch(new RegExp(`<td>${row!.id}</td>\\s*<td>データベース</td>\\s*<td><span class="badge badge-info" data-status="good">正常</span>`));
    const media = await agent.post('/admin/backups/run').type('form').send({ _csrf: csrfFrom(after.text), kind: 'media' });
    expect(media.status).toBe(409); // no TOYBOX_MEDIA_DIR in this portal
  });
});
