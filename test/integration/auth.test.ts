import { csrfFrom } from '../support/portal';
import { buildUser } from '../support/factories';
import { useTestPortal } from '../support/portal-stack';

describe('sign-in against TOYBOX users', () => {
  const portal = useTestPortal();

  async function signIn(login: string, password: string, agent = portal.agent()) {
    const page = await agent.get('/login');
    const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), login, password });
    return { agent, res };
  }

  it('accepts a Django-hashed password by display id and by e-mail, and shows sign-out', async () => {
    const u = await buildUser(portal.ctx.knex);
    const byId = await signIn(u.display_id, u.password);
    expect(byId.res.status).toBe(303);
    expect(byId.res.headers.location).toBe('/account');
    const account = await byId.agent.get('/account');
    expect(account.status).toBe(200);
    expect(account.text).toContain(u.display_id);
    expect(account.text).toContain('action="/logout"');

    const byEmail = await signIn(u.email.toUpperCase(), u.password);
    expect(byEmail.res.headers.location).toBe('/account');
    const row = await portal.ctx.knex('users').where({ id: u.id }).first();
    expect(row.last_login).not.toBeNull();
  });

  it('rotates the session id at sign-in', async () => {
    const u = await buildUser(portal.ctx.knex);
    const agent = portal.agent();
    const page = await agent.get('/login');
    const before = /portal\.sid=([^;]+)/.exec(String(page.headers['set-cookie']))?.[1];
    const res = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), login: u.display_id, password: u.password });
    const after = /portal\.sid=([^;]+)/.exec(String(res.headers['set-cookie']))?.[1];
    expect(before).toBeDefined();
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
  });

  it('refuses a wrong password, an inactive and a banned user', async () => {
    const u = await buildUser(portal.ctx.knex);
    const wrong = await signIn(u.display_id, 'not-the-password');
    expect(wrong.res.status).toBe(401);
    expect(wrong.res.text).toContain('ID またはパスワードが正しくありません');

    const inactive = await buildUser(portal.ctx.knex, { is_active: false });
    expect((await signIn(inactive.display_id, inactive.password)).res.status).toBe(401);
    const banned = await buildUser(portal.ctx.knex);
    await portal.ctx.knex('users').where({ id: banned.id }).update({ banned_at: new Date(), penalty_type: 'BAN' });
    const b = await signIn(banned.display_id, banned.password);
    expect(b.res.status).toBe(401);
    expect((await b.agent.get('/export')).text).not.toContain(banned.display_id);
  });

  it('looks display ids up exactly as TOYBOX\'s login does: a capitalised id signs in as stored, not in another case', async () => {
    // create_user and the Django admin store display ids as given; TOYBOX's /api/auth/login/ matches them exactly.
    const u = await buildUser(portal.ctx.knex, { display_id: 'Hanako_K' });
    const ok = await signIn('Hanako_K', u.password);
    expect(ok.res.status).toBe(303);
    expect((await ok.agent.get('/account')).text).toContain('Hanako_K');
    expect((await signIn('hanako_k', u.password)).res.status).toBe(401);
    expect((await signIn(' Hanako_K ', u.password)).res.status).toBe(303); // trimmed, as DRF's CharField does
  });

  it('lets a suspended (not banned) user sign in to export their own data, and nothing else', async () => {
    const suspended = await buildUser(portal.ctx.knex, { is_suspended: true, is_staff: true });
    const s = await signIn(suspended.display_id, suspended.password);
    expect(s.res.status).toBe(303);
    expect(s.res.headers.location).toBe('/export');
    const page = await s.agent.get('/export');
    expect(page.status).toBe(200);
    expect(page.text).toContain(suspended.display_id);
    const exported = await s.agent.get('/api/me/export?format=json');
    expect(exported.status).toBe(200);
    expect(JSON.stringify(exported.body)).toContain(suspended.display_id);
    expect(JSON.stringify(exported.body)).not.toContain('pbkdf2_sha256');
    expect((await s.agent.get('/account')).status).toBe(303); // other pages ask to sign in again
    expect((await s.agent.get('/admin')).status).toBe(303); // staff flag or not, a suspended account is no admin here
  });

  it('asks for the e-mail when a display id belongs to two accounts', async () => {
    const a = await buildUser(portal.ctx.knex, { display_id: 'shared_name', email: 'a@example.com' });
    await buildUser(portal.ctx.knex, { display_id: 'shared_name', email: 'b@example.com' });
    const res = await portal.agent().get('/login?lang=en');
    expect(res.status).toBe(200);
    const { res: amb } = await signIn('shared_name', a.password);
    expect(amb.status).toBe(401);
    expect(amb.text).toContain('複数のアカウント');
    expect((await signIn('a@example.com', a.password)).res.status).toBe(303);
  });

  it('throttles the 6th rapid wrong attempt with 429 and says when to retry', async () => {
    const u = await buildUser(portal.ctx.knex);
    const agent = portal.agent();
    for (let i = 0; i < 5; i += 1) expect((await signIn(u.display_id, 'wrong', agent)).res.status).toBe(401);
    const sixth = await signIn(u.display_id, 'wrong', agent);
    expect(sixth.res.status).toBe(429);
    expect(Number(sixth.res.headers['retry-after'])).toBeGreaterThan(0);
    expect(sixth.res.text).toMatch(/\d{2}:\d{2} JST（約\d+分後）以降にもう一度お試しください/);
    // even the right password waits until the window passes
    expect((await signIn(u.display_id, u.password, agent)).res.status).toBe(429);
  });

  it('an empty or oversized field is named beside it (422), the typed ID kept, in the reader\'s language', async () => {
    const agent = portal.agent();
    const page = await agent.get('/login?lang=en');
    const empty = await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), login: '  ', password: '' });
    expect(empty.status).toBe(422);
    expect(empty.text).toMatch(/<p class="field-error" id="login-error">Please enter your ID \(or e-mail address\)\.<\/p>/);
    expect(empty.text).toMatch(/<p class="field-error" id="password-error">Please enter your password\.<\/p>/);
    expect(empty.text).toContain('aria-describedby="login-error"');
    const long = await agent.post('/login?lang=ja').type('form').send({ _csrf: csrfFrom(empty.text), login: 'kuma', password: 'x'.repeat(5000) });
    expect(long.status).toBe(422);
    expect(long.text).toContain('パスワードが長すぎます。');
    expect(long.text).toContain('value="kuma"');
    expect(long.text).not.toContain('id="login-error"');
  });

  it('rejects a form without its CSRF token', async () => {
    const u = await buildUser(portal.ctx.knex);
    const agent = portal.agent();
    await agent.get('/login');
    const res = await agent.post('/login').type('form').send({ login: u.display_id, password: u.password });
    expect(res.status).toBe(403);
    expect(res.text).toContain('フォームの有効期限が切れました');
  });

  it('keeps non-staff out of /admin and lets staff in', async () => {
    const plain = await buildUser(portal.ctx.knex);
    const { agent } = await signIn(plain.display_id, plain.password);
    expect((await agent.get('/admin')).status).toBe(403);
    const staff = await buildUser(portal.ctx.knex, { is_staff: true });
    const s = await signIn(staff.display_id, staff.password);
    expect(s.res.headers.location).toBe('/admin');
    expect((await s.agent.get('/admin')).status).toBe(200);
  });

  it('signs out and rotates the session', async () => {
    const u = await buildUser(portal.ctx.knex);
    const { agent } = await signIn(u.display_id, u.password);
    const account = await agent.get('/account');
    const out = await agent.post('/logout').type('form').send({ _csrf: csrfFrom(account.text) });
    expect(out.status).toBe(303);
    expect((await agent.get('/account')).status).toBe(303);
  });
});
