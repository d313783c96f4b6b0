import supertest from 'supertest';
import { startTestPortal, csrfFrom, type TestPortal } from '../support/portal';
import { buildUser, type BuiltUser } from '../support/factories';
import { makeDjangoPassword, DJANGO_PBKDF2_ITERATIONS } from '../../src/auth/django-password';

/**
 * A sign-in rush against a tiny hashing queue (1 at a time, 2 waiting, 1 s
 * deadline) and real Django hashes (1,000,000 PBKDF2 iterations): the
 * surplus is told to come back (503 + Retry-After) at once, nobody waits
 * past the deadline, and a 503 never counts as a failed attempt.
 */
describe('sign-in rush', () => {
  let portal: TestPortal;
  const users: BuiltUser[] = [];
  const PASSWORD = 'rush-password-1';

  beforeAll(async () => {
    portal = await startTestPortal({ LOGIN_HASH_CONCURRENCY: '1', LOGIN_QUEUE_MAX: '2', LOGIN_QUEUE_WAIT_MS: '1000' });
    const hash = await makeDjangoPassword(PASSWORD, DJANGO_PBKDF2_ITERATIONS);
    for (let i = 0; i < 4; i++) {
      const u = await buildUser(portal.ctx.knex, { password: PASSWORD });
      await portal.ctx.knex('public.users').where({ id: u.id }).update({ password: hash });
      users.push(u);
    }
  });
  afterAll(() => portal.close());

  async function client() {
    const agent = supertest.agent(portal.app);
    const page = await agent.get('/login');
    return { agent, csrf: csrfFrom(page.text) };
  }

  function signIn(c: { agent: ReturnType<typeof supertest.agent>; csrf: string }, user: BuiltUser, password: string, json = false) {
    const started = Date.now();
    const req = c.agent.post('/login').type('form');
    if (json) req.set('Accept', 'application/json');
    return req.send({ _csrf: c.csrf, login: user.display_id, password }).then((res) => ({ res, ms: Date.now() - started }));
  }

  it('answers the surplus with 503 + Retry-After (HTML in both languages, or JSON) and keeps every request under the deadline', async () => {
    const clients = await Promise.all(Array.from({ length: 14 }, client));
    const html = clients.slice(0, 12).map((c, i) => signIn(c, users[i % 4]!, i % 2 === 0 ? PASSWORD : 'wrong-password'));
    await new Promise((r) => setTimeout(r, 50)); // the first ones now hold the slot and the queue
    const json = clients.slice(12).map((c, i) => signIn(c, users[i]!, PASSWORD, true));
    const results = await Promise.all([...html, ...json]);

    for (const { res } of results) expect([303, 401, 503]).toContain(res.status);
    const busy = results.filter((r) => r.res.status === 503);
    expect(busy.length).toBeGreaterThanOrEqual(9); // 14 tries, 1 running + 2 waiting at most at the start
    expect(results.filter((r) => r.res.status !== 503).length).toBeGreaterThanOrEqual(1);
    for (const { res } of busy) expect(res.headers['retry-after']).toBe('1');
    // nobody waits past the 1 s deadline (plus one hash of CPU)
    const slowest = Math.max(...results.map((r) => r.ms));
    expect(slowest).toBeLessThan(1000 + 3000);
    // refusals with a full queue do not wait for the 1 s deadline
    expect(Math.min(...busy.map((r) => r.ms))).toBeLessThan(1000);

    const htmlBusy = busy.filter((r) => r.res.type === 'text/html').map((r) => r.res);
    expect(htmlBusy.length).toBeGreaterThan(0);
    for (const res of htmlBusy) {
      expect(res.text).toContain('ただいまログインが混み合っています');
      expect(res.text).toContain('Sign-in is busy right now');
      expect(res.headers['content-security-policy']).toBeDefined();
    }
    const jsonBusy = results.slice(12).map((r) => r.res);
    for (const res of jsonBusy) {
      expect(res.status).toBe(503);
      expect(res.body.error).toMatchObject({ status: 503, code: 'auth.busy' });
    }
  });

  it('does not count a 503 as a failed attempt: the account can sign in once the rush is over', async () => {
    // Others hold the slot and the queue; meanwhile one person retries 6 times and gets 503 each time.
    // 5 failures lock an account for 15 minutes: 503s must not count.
    const fillers = await Promise.all([0, 1, 3].map(() => client()));
    const tries = await Promise.all(Array.from({ length: 6 }, client));
    const held = Promise.all(fillers.map((c, i) => signIn(c, users[[0, 1, 3][i]!]!, PASSWORD)));
    await new Promise((r) => setTimeout(r, 30));
    const statuses: number[] = [];
    for (const c of tries) statuses.push((await signIn(c, users[2]!, 'not-even-checked')).res.status);
    await held;
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(5);
    const counter = await portal.ctx.knex('portal.rate_limits').where({ key: `login-account:acct:${users[2]!.display_id.toLowerCase()}` }).first();
    expect(counter?.hits ?? 0).toBeLessThanOrEqual(statuses.filter((s) => s === 401).length);
    const { res } = await signIn(await client(), users[2]!, PASSWORD);
    expect(res.status).toBe(303);
  });
});
