import http from 'node:http';
import { startTestPortal, csrfFrom, type TestPortal } from '../support/portal';
import { buildUser } from '../support/factories';
import { eventuallyValue } from '../support/eventually';

describe('export: streaming', () => {
  let portal: TestPortal;
  let base: string;

  beforeAll(async () => {
    portal = await startTestPortal({ EXPORT_COOLDOWN_HOURS: '24' });
    base = await portal.listen();
  });
  afterAll(() => portal.close());

  it('sends the first bytes within a second, and a client that goes away stops the export without using up the allowance', async () => {
    const u = await buildUser(portal.ctx.knex);
    await portal.ctx.knex.raw(
      `INSERT INTO public.submissions (author_id, title, caption, comment_enabled, status, aim, steps, frame_type, jp_result, likes_count, hashtags, spell, ai_tool, created_at, updated_at)
       SELECT ?, 'post ' || g, repeat('キャプション ', 40) || g, true, 'PUBLIC', '', '[]', 'none', '', 0, '[]', '', '', now(), now() FROM generate_series(1, 20000) g`,
      [u.id],
    );
    const agent = portal.agent();
    const page = await agent.get('/login');
    const login = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), login: u.display_id, password: u.password });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;

    const started = Date.now();
    const firstChunkAt = await new Promise<number>((resolve, reject) => {
      const req = http.get(`${base}/api/me/export?format=zip`, { headers: { cookie } }, (res) => {
        expect(res.statusCode).toBe(200);
        res.once('data', () => {
          const at = Date.now() - started;
          req.destroy();
          resolve(at);
        });
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    });
    expect(firstChunkAt).toBeLessThan(1000);

    const job = await eventuallyValue<{ status: string; file_path: string | null } | undefined>(
      () => portal.ctx.knex('portal.export_jobs').where({ user_id: u.id }).first(),
      (j) => j !== undefined && j.status !== 'running',
      15_000,
      100,
    );
    expect(job).toMatchObject({ status: 'failed', file_path: null });

    const again = await agent.get('/api/me/export?format=json');
    expect(again.status).toBe(200);
    expect(again.body.counts.posts).toBe(20000);
  });
});
