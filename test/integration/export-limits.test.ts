import fs from 'node:fs';
import { csrfFrom, tempDir, signedInAgent } from '../support/portal';
import { buildUser } from '../support/factories';
import { feature } from '../../src/features/export';
import { sweepExpiredExports } from '../../src/features/export/service';
import { seedUserData, binaryParser, unzipChecked, type SeededUser } from '../support/export-seed';
import { useTestPortal, useTempDir } from '../support/portal-stack';

describe('export: cooldown, repeat downloads, rate limit and staff exports', () => {
  const mediaDir = useTempDir('export-lim-media-');
  const portal = useTestPortal({ TOYBOX_MEDIA_DIR: mediaDir, EXPORT_COOLDOWN_HOURS: '24' });
  let a: SeededUser;

  beforeAll(async () => {
    a = await seedUserData(portal.ctx.knex, mediaDir, 'limit');
  });

  const signIn = (login: string, password: string) => signedInAgent(portal, login, password);

  const countedJobs = async (userId: number) =>
    Number((await portal.ctx.knex('portal.export_jobs').where({ user_id: userId, counted: true }).count<{ n: string }[]>({ n: '*' }))[0]!.n);

  it('serves a repeat of the same format as the same archive, refuses another format until the cooldown ends', async () => {
    const agent = await signIn(a.display_id, a.password);
    const first = await agent.get('/api/me/export?format=zip').buffer(true).parse(binaryParser);
    expect(first.status).toBe(200);
    const again = await agent.get('/api/me/export?format=zip').buffer(true).parse(binaryParser);
    expect(again.status).toBe(200);
    expect(Buffer.compare(again.body as Buffer, first.body as Buffer)).toBe(0);
    expect(Number(again.headers['content-length'])).toBe((first.body as Buffer).length);
    expect(await countedJobs(a.id)).toBe(1);
    const job = await portal.ctx.knex('portal.export_jobs').where({ user_id: a.id }).first();
    expect(job).toMatchObject({ status: 'done', format: 'zip', mode: 'stream' });
    expect(Number(job.row_count)).toBeGreaterThan(20);

    const json = await agent.get('/api/me/export?format=json');
    expect(json.status).toBe(429);
    expect(Number(json.headers['retry-after'])).toBeGreaterThan(23 * 3600);
    expect(json.body.error.message).toMatch(/^エクスポートは24時間に1回までです。次は \d{4}-\d{2}-\d{2} \d{2}:\d{2} JST 以降にできます。$/);

    const page = await agent.get('/export?lang=en');
    expect(page.text).toMatch(/You can export again after .*\d{1,2}:\d{2}/);
    const post = await agent.post('/export').type('form').send({ _csrf: csrfFrom(page.text), format: 'json' });
    expect(post.status).toBe(429);
    expect(post.text).toMatch(/The next export is possible after .*\d{1,2}:\d{2}/);
    expect(await countedJobs(a.id)).toBe(1);
  });

  it('does not count a failed export toward the cooldown', async () => {
    const u = await buildUser(portal.ctx.knex);
    await portal.ctx.knex('portal.export_jobs').insert({
      id: '00000000-0000-4000-8000-000000000001', user_id: u.id, requested_by: 'test', counted: true, format: 'zip', mode: 'stream', status: 'failed', lang: 'ja',
    });
    const agent = await signIn(u.display_id, u.password);
    expect((await agent.get('/api/me/export?format=json')).status).toBe(200);
  });

  it('does not let an export interrupted by a restart block the user, and the sweep closes it as failed', async () => {
    const u = await buildUser(portal.ctx.knex);
    const id = '00000000-0000-4000-8000-000000000002';
    await portal.ctx.knex('portal.export_jobs').insert({
      id, user_id: u.id, requested_by: 'test', counted: true, format: 'zip', mode: 'stream', status: 'running', lang: 'ja',
      created_at: portal.ctx.knex.raw("now() - interval '2 hours'"), started_at: portal.ctx.knex.raw("now() - interval '2 hours'"),
    });
    const agent = await signIn(u.display_id, u.password);
    expect((await agent.get('/api/me/export?format=json')).status).toBe(200);
    await sweepExpiredExports(portal.ctx);
    expect((await portal.ctx.knex('portal.export_jobs').where({ id }).first()).status).toBe('failed');
  });

  it('rate-limits rapid requests per user with a message saying when to retry', async () => {
    const u = await buildUser(portal.ctx.knex);
    const agent = await signIn(u.display_id, u.password);
    const statuses: number[] = [];
    let last: { status: number; body: { error?: { message: string; code: string } } } | null = null;
    for (let i = 0; i < 11; i += 1) {
      last = await agent.get('/api/me/export?format=json');
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200));
    expect(last!.status).toBe(429);
    expect(last!.body.error!.code).toBe('errors.too_many');
    expect(last!.body.error!.message).toMatch(/\d{2}:\d{2} JST（約\d+分後）以降/);
  });

  it("lets staff export any user's data, audited and outside the user's cooldown", async () => {
    const staff = await buildUser(portal.ctx.knex, { is_staff: true });
    const agent = await signIn(staff.display_id, staff.password);
    const form = await agent.get('/admin/export');
    expect(form.status).toBe(200);
    const missing = await agent.post('/admin/export').type('form').send({ _csrf: csrfFrom(form.text), user: 'nobody_here', format: 'zip' });
    expect(missing.status).toBe(422);
    expect(missing.text).toContain('該当するユーザーが見つかりません');
    const res = await agent
      .post('/admin/export')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), user: String(a.id), format: 'zip' })
      .buffer(true)
      .parse(binaryParser);
    expect(res.status).toBe(200);
    const dir = tempDir('export-staff-');
    try {
      const { files } = unzipChecked(res.body as Buffer, dir);
      const data = JSON.parse(fs.readFileSync(`${dir}/x/data.json`, 'utf8'));
      expect(files).toContain('index.html');
      expect(data.user.id).toBe(a.id);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const audit = await portal.ctx.knex('portal.audit_log').where({ action: 'export.staff' }).orderBy('id', 'desc').first();
    expect(audit).toMatchObject({ actor: `user:${staff.id}:${staff.display_id}`, target: `user:${a.id}` });
    expect(audit.details).toMatchObject({ format: 'zip' });
    expect(await countedJobs(a.id)).toBe(1);

    const panel = await feature.dashboard!(portal.ctx, {} as never);
    expect(panel).toMatchObject({ partial: 'export/panel', locals: { exportStats: { last24h: expect.any(Number), stored: expect.any(Number) } } });
    expect((panel!.locals.exportStats as { last24h: number }).last24h).toBeGreaterThanOrEqual(2);

    const plain = await signIn(a.display_id, a.password);
    expect((await plain.get('/admin/export')).status).toBe(403);
  });
});
