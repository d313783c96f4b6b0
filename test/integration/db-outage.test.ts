import { csrfFrom, signedInAgent } from '../support/portal';
import { usePortalBehindLink } from '../support/outages';
import { buildUser } from '../support/factories';
import { parseConfig } from '../../src/config';
import { importCandidates } from '../../src/features/campaigns/addresses/service';
import { createCampaign } from '../../src/features/campaigns/lifecycle/service';
import { recipientsForExport } from '../../src/features/campaigns/lifecycle/repo';

/**
 * Issue 14, point 10: with PostgreSQL unreachable or hung, pages answer 503
 * with the error page in the reader's language, quickly, instead of 500 or a
 * request that hangs for 40 seconds.
 */
describe('pages while the database is unreachable or hung', () => {
  const { portal, link } = usePortalBehindLink({ DB_CONNECT_TIMEOUT_MS: '800', DB_STATEMENT_TIMEOUT_MS: '800' });

  async function timed<T>(fn: () => Promise<T>): Promise<{ res: T; ms: number }> {
    const start = Date.now();
    const res = await fn();
    return { res, ms: Date.now() - start };
  }

  it('lets a slow reader of a long result (recipients.csv) take longer than the statement timeout', async () => {
    const knex = portal.ctx.knex;
    const people = Array.from({ length: 4500 }, (_, i) => ({ line: i + 1, raw: `slow-${i}@example.net`, lang: null, name: null }));
    await importCandidates(knex, people, 'test');
    const { id } = await createCampaign(knex, { name: 'slow', subject_ja: '再登録', text_ja: '{{display_name}} 様\n{{link}}', rate_per_minute: 0, concurrency: 1 }, 'test');
    let rows = 0;
    const start = Date.now();
    for await (const row of recipientsForExport(knex, id)) {
      rows += 1;
      // A browser reading slowly: well past DB_STATEMENT_TIMEOUT_MS (800 ms) and the client's wait (1.8 s).
      if (rows === 1 || rows === 3000) await new Promise((r) => setTimeout(r, 2000));
      expect(typeof row.email).toBe('string');
    }
    expect(rows).toBe(4500);
    expect(Date.now() - start).toBeGreaterThan(4000);
  });

  it('answers /account, /login and the admin with 503 and the page in Japanese or English when the database refuses connections', async () => {
    const user = await buildUser(portal.ctx.knex);
    const agent = await signedInAgent(portal, user.display_id, user.password);
    expect((await agent.get('/account')).status).toBe(200);
    const loginPage = await portal.agent().get('/login');
    const csrf = csrfFrom(loginPage.text);

    await link.cut();
    const ja = await timed(() => agent.get('/account').timeout(8000));
    expect(ja.res.status).toBe(503);
    expect(ja.res.headers['retry-after']).toBe('30');
    expect(ja.res.text).toContain('データベースに接続できないため');
    expect(ja.res.text).not.toMatch(/ECONNREFUSED|at .*\.js|stack/);
    const en = await agent.get('/account?lang=en').timeout(8000);
    expect(en.status).toBe(503);
    expect(en.text).toContain('The database cannot be reached');
    const json = await agent.get('/account').set('Accept', 'application/json').timeout(8000);
    expect(json.status).toBe(503);
    expect(json.body.error.code).toBe('errors.database_unavailable');
    expect(ja.ms).toBeLessThan(3000);
    const anonymous = portal.agent();
    expect((await anonymous.get('/login').timeout(8000)).status).toBe(503);
    expect((await anonymous.post('/login').type('form').send({ _csrf: csrf, login: user.display_id, password: user.password }).timeout(8000)).status).toBe(503);

    await link.restore();
    expect((await agent.get('/account')).status).toBe(200);
  });

  it('fails fast with 503 when the database hangs (accepts, never answers), for open and new connections', async () => {
    const user = await buildUser(portal.ctx.knex);
    const agent = await signedInAgent(portal, user.display_id, user.password);
    const page = await agent.get('/account');
    expect(page.status).toBe(200);
    const visitor = portal.agent();
    const form = await visitor.get('/login');
    link.hang();
    for (const [name, send] of [
      ['GET /login', () => portal.agent().get('/login')],
      ['POST /login', () => visitor.post('/login').type('form').send({ _csrf: csrfFrom(form.text), login: user.display_id, password: user.password })],
      ['GET /account', () => agent.get('/account')],
      ['GET /admin', () => agent.get('/admin')],
    ] as const) {
      const { res, ms } = await timed(() => send().timeout(10_000));
      expect({ name, status: res.status }).toEqual({ name, status: 503 });
      expect(ms).toBeLessThan(4000);
    }
  });

  it('documents sane defaults for the timeouts', () => {
    const config = parseConfig({ NODE_ENV: 'test' });
    expect(config.DB_CONNECT_TIMEOUT_MS).toBe(5000);
    expect(config.DB_STATEMENT_TIMEOUT_MS).toBe(10000);
  });
});
