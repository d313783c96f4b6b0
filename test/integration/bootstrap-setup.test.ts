import fs from 'node:fs';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { startTestPortal, csrfFrom, type TestPortal } from '../support/portal';
import { buildUser } from '../support/factories';
import { ensureBootstrapToken, type Log } from '../../src/features/bootstrap/tokens';
import { tokenFilePath } from '../../src/features/bootstrap/token-file';
import { feature } from '../../src/features/bootstrap';
import { checkSetupToken } from '../../src/features/bootstrap/tokens';
import { createSuperuserWithToken, BootstrapRefused } from '../../src/features/bootstrap/service';
import { useTestPortal } from '../support/portal-stack';

/** Django's check_password for pbkdf2_sha256, written independently with Python's standard library. */
function pythonCheck(password: string, encoded: string): boolean {
  const script = `import hashlib,base64,sys,hmac
alg,it,salt,h=sys.argv[2].split('$')
assert alg=='pbkdf2_sha256'
d=hashlib.pbkdf2_hmac('sha256',sys.argv[1].encode(),salt.encode(),int(it),32)
print(hmac.compare_digest(base64.b64encode(d).decode(),h))`;
  return execFileSync('python3', ['-c', script, password, encoded], { encoding: 'utf8' }).trim() === 'True';
}

function captureLog(): Log & { lines: Array<{ level: string; obj: object; msg: string }> } {
  const lines: Array<{ level: string; obj: object; msg: string }> = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj, msg });
  return { lines, warn: at('warn'), info: at('info'), error: at('error') };
}

const readToken = (p: TestPortal) => fs.readFileSync(tokenFilePath(p.dataDir), 'utf8').trim();

async function postSetup(p: TestPortal, fields: Record<string, string>, agent = p.agent(), query = '') {
  const page = await agent.get(`/setup${query}`);
  const res = await agent.post(`/setup${query}`).type('form').send({ _csrf: csrfFrom(page.text), ...fields });
  return { res, agent };
}

const GOOD = { email: 'Kanri.Sha@ToyBox.Example', display_id: 'toybox_root', password: 'lantern-orbit-kettle-42', password_confirm: 'lantern-orbit-kettle-42' };

describe('admin bootstrap: /setup', () => {
  let portal: TestPortal;
  let usedToken = '';
  beforeAll(async () => {
    portal = await startTestPortal({ PUBLIC_URL: 'http://portal.example' });
  });
  afterAll(() => portal.close());
  // These tests post many failing forms from one address; the per-address limit has its own tests below.
  beforeEach(() => portal.ctx.knex('portal.rate_limits').delete());

  it('issues a 256-bit token at start: file 0600, hash only in the database, setup address and token in one log line', async () => {
    const log = captureLog();
    expect(await ensureBootstrapToken(portal.ctx, log)).toBe('issued');
    const file = tokenFilePath(portal.dataDir);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const token = readToken(portal);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = await portal.ctx.knex('portal.bootstrap_tokens').select('*');
    expect(rows).toHaveLength(1);
    expect(Buffer.from(rows[0].token_hash).equals(crypto.createHash('sha256').update(token).digest())).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(token);
    const warn = log.lines.filter((l) => l.msg.includes(token));
    expect(warn).toHaveLength(1);
    expect(warn[0]!.msg).toContain('http://portal.example/setup');
    expect(warn[0]!.msg).not.toMatch(/setup\?/); // never in a URL
    const expires = new Date(rows[0].expires_at).getTime() - new Date(rows[0].created_at).getTime();
    expect(expires).toBe(60 * 60 * 1000);

    // A restart within the hour keeps the token and its file, without printing the token again.
    const again = captureLog();
    expect(await ensureBootstrapToken(portal.ctx, again)).toBe('kept');
    expect(readToken(portal)).toBe(token);
    expect(again.lines.some((l) => l.msg.includes(token))).toBe(false);
  });

  it('shows the form and re-renders it with 422 and each problem beside its field, in the page language', async () => {
    const get = await portal.agent().get('/setup');
    expect(get.status).toBe(200);
    for (const name of ['token', 'email', 'display_id', 'password', 'password_confirm']) expect(get.text).toContain(`name="${name}"`);

    const token = readToken(portal);
    const { res } = await postSetup(portal, { token, email: 'not-an-address', display_id: 'X', password: 'short', password_confirm: 'short' });
    expect(res.status).toBe(422);
    expect(res.text).toMatch(/id="email-error">正しいメールアドレスを入力してください/);
    expect(res.text).toMatch(/id="display_id-error">3〜30 文字/);
    expect(res.text).not.toContain(token);

    const en = await postSetup(portal, { token, ...GOOD, password: '12345678', password_confirm: '12345679' }, portal.agent(), '?lang=en');
    expect(en.res.status).toBe(422);
    expect(en.res.text).toMatch(/id="password-error">This password is too common\. This password is entirely numeric\./);
    expect(en.res.text).toMatch(/id="password_confirm-error">The two passwords do not match\./);
    expect(en.res.text).toContain('value="toybox_root"'); // what was typed stays, passwords do not

    const similar = await postSetup(portal, { token, ...GOOD, password: 'toybox_root!', password_confirm: 'toybox_root!' });
    expect(similar.res.status).toBe(422);
    expect(similar.res.text).toContain('このパスワードは表示 ID と似すぎています。');

    const taken = await buildUser(portal.ctx.knex, { email: 'taken@example.com' });
    const clash = await postSetup(portal, { token, ...GOOD, email: 'TAKEN@example.com', display_id: taken.display_id });
    expect(clash.res.status).toBe(422);
    expect(clash.res.text).toContain('recovery-portal admin promote');
    expect(clash.res.text).toContain('この表示 ID はほかのアカウントで使われています。');

    // none of that counted against the token, and nothing was created
    const row = await portal.ctx.knex('portal.bootstrap_tokens').whereNull('spent_at').first();
    expect(row.failed_attempts).toBe(0);
    expect(await portal.ctx.knex('users').where({ is_superuser: true }).count('id as n').first()).toEqual({ n: 0 });
  });

  it('refuses a wrong token (counted) and an expired one; a restart after expiry issues a fresh token', async () => {
    const wrong = await postSetup(portal, { token: crypto.randomBytes(32).toString('base64url'), ...GOOD });
    expect(wrong.res.status).toBe(403);
    expect(wrong.res.text).toMatch(/id="token-error">設定トークンが正しくありません/);
    expect((await portal.ctx.knex('portal.bootstrap_tokens').whereNull('spent_at').first()).failed_attempts).toBe(1);

    const token = readToken(portal);
    await portal.ctx.knex('portal.bootstrap_tokens').whereNull('spent_at').update({ expires_at: portal.ctx.knex.raw("now() - interval '1 second'") });
    const expired = await postSetup(portal, { token, ...GOOD });
    expect(expired.res.status).toBe(403);
    expect(expired.res.text).toContain('有効期限が切れています');
    expect(await portal.ctx.knex('users').where({ is_superuser: true }).first()).toBeUndefined();

    expect(await ensureBootstrapToken(portal.ctx, captureLog())).toBe('issued');
    const fresh = readToken(portal);
    expect(fresh).not.toBe(token);
    expect((await postSetup(portal, { token, ...GOOD })).res.status).toBe(403); // the expired one stays dead
  });

  it('of two simultaneous POSTs with the same token, exactly one creates the superuser; it is what create_superuser writes', async () => {
    const token = readToken(portal);
    usedToken = token;
    const a = portal.agent();
    const b = portal.agent();
    const [pa, pb] = await Promise.all([a.get('/setup'), b.get('/setup')]);
    expect(pa.text).toMatch(/<input type="radio" name="role" value="ADMIN" checked>/);
    expect(pa.text).toContain('Django 管理画面（/admin/）と TOYBOX の管理コンソール（/admin/console/）の両方を開けます。');
    expect(pa.text).toContain('TOYBOX の管理コンソールは ADMIN だけが入れるため 403 になります。');
    const started = Date.now();
    const [ra, rb] = await Promise.all([
      a.post('/setup').type('form').send({ _csrf: csrfFrom(pa.text), token, ...GOOD }),
      b.post('/setup').type('form').send({ _csrf: csrfFrom(pb.text), token, ...GOOD }),
    ]);
    const statuses = [ra.status, rb.status].sort();
    expect(statuses[0]).toBe(303);
    expect([403, 404, 409, 422]).toContain(statuses[1]);
    const winner = ra.status === 303 ? { res: ra, agent: a } : { res: rb, agent: b };
    expect(winner.res.headers.location).toBe('/admin');

    const supers = await portal.ctx.knex('users').where({ is_superuser: true });
    expect(supers).toHaveLength(1);
    const u = supers[0];
    expect(u).toMatchObject({
      email: 'Kanri.Sha@toybox.example', // domain lower-cased, local part kept (normalize_email)
      display_id: 'toybox_root',
      role: 'ADMIN', // the default choice: Django admin and TOYBOX's console (which admits only ADMIN)
      is_staff: true,
      is_superuser: true,
      is_active: true,
      is_suspended: false,
      warning_count: 0,
      last_login: null,
      banned_at: null,
      studysphere_login_code: null,
    });
    expect(u.password).toMatch(/^pbkdf2_sha256\$1000000\$[A-Za-z0-9]{22}\$[A-Za-z0-9+/]{43}=$/);
    expect(pythonCheck(GOOD.password, u.password)).toBe(true);
    expect(pythonCheck(`${GOOD.password}x`, u.password)).toBe(false);
    for (const at of [u.created_at, u.updated_at]) expect(Math.abs(new Date(at).getTime() - started)).toBeLessThan(60_000);
    const meta = await portal.ctx.knex('user_meta').where({ user_id: u.id });
    expect(meta).toHaveLength(1);

    const spent = await portal.ctx.knex('portal.bootstrap_tokens').orderBy('id', 'desc').first();
    expect(spent.spent_reason).toBe('used');
    expect(fs.existsSync(tokenFilePath(portal.dataDir))).toBe(false);
    const audit = await portal.ctx.knex('portal.audit_log').where({ action: 'bootstrap.superuser_created' });
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit[0])).not.toContain(token);
    expect(JSON.stringify(audit[0])).not.toContain(GOOD.password);

    // signed in: the dashboard with the audit log and the bootstrap panel
    const admin = await winner.agent.get('/admin');
    expect(admin.status).toBe(200);
    expect(admin.text).toContain('bootstrap.superuser_created');
    expect(admin.text).toContain('有効なスーパーユーザー：1 人');
  });

  it('answers 404 once an active superuser exists, and issues no token at start', async () => {
    expect((await portal.agent().get('/setup')).status).toBe(404);
    const post = await postSetupRaw(portal, { token: 'x', ...GOOD });
    expect(post.status).toBe(404);
    const before = await portal.ctx.knex('portal.bootstrap_tokens').count('id as n').first();
    const stop = await feature.start!(portal.ctx);
    await stop();
    expect(await portal.ctx.knex('portal.bootstrap_tokens').count('id as n').first()).toEqual(before);
    expect(fs.existsSync(tokenFilePath(portal.dataDir))).toBe(false);
  });

  it('refuses a used token even when setup reopens (the superuser was deactivated)', async () => {
    const spent = await portal.ctx.knex('portal.bootstrap_tokens').where({ spent_reason: 'used' }).first();
    expect(spent).toBeDefined();
    await portal.ctx.knex('users').where({ is_superuser: true }).update({ is_active: false });
    const second = { ...GOOD, email: 'second@toybox.example', display_id: 'second_root' };
    const { res } = await postSetup(portal, { token: usedToken, ...second });
    expect(res.status).toBe(403);
    expect(res.text).toContain('有効な設定トークンがありません');
    // after a restart a new token is live, and the used one is still refused
    expect(await ensureBootstrapToken(portal.ctx, captureLog())).toBe('issued');
    const again = await postSetup(portal, { token: usedToken, ...second });
    expect(again.res.status).toBe(403);
    expect(again.res.text).toContain('設定トークンが正しくありません');
    expect(await portal.ctx.knex('users').where({ display_id: 'second_root' }).first()).toBeUndefined();
  });
});

/** A POST from a session that has a CSRF token but never saw /setup (it is 404 now). */
async function postSetupRaw(p: TestPortal, fields: Record<string, string>) {
  const agent = p.agent();
  const page = await agent.get('/login');
  return agent.post('/setup').type('form').send({ _csrf: csrfFrom(page.text), ...fields });
}

describe('admin bootstrap: wrong tries and rate limit', () => {
  const portal = useTestPortal();

  it('rate-limits failed POST /setup per address with 429', async () => {
    const agent = portal.agent();
    const page = await agent.get('/setup');
    const csrf = csrfFrom(page.text);
    let status = 0;
    for (let i = 0; i < 40 && status !== 429; i += 1) {
      status = (await agent.post('/setup').type('form').send({ _csrf: csrf, token: '', ...GOOD })).status;
    }
    expect(status).toBe(429);
  });

  it('the token lock alone serialises two setups with different accounts: one superuser, the other refused as used', async () => {
    await ensureBootstrapToken(portal.ctx, captureLog());
    const token = readToken(portal);
    const check = await checkSetupToken(portal.ctx, token);
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    const results = await Promise.allSettled([
      createSuperuserWithToken(portal.ctx, check.tokenId, token, { email: 'one@toybox.example', display_id: 'race_one', password: 'lantern-orbit-kettle-42' }, 'test'),
      createSuperuserWithToken(portal.ctx, check.tokenId, token, { email: 'two@toybox.example', display_id: 'race_two', password: 'lantern-orbit-kettle-42' }, 'test'),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect(rejected.reason).toBeInstanceOf(BootstrapRefused);
    expect((rejected.reason as BootstrapRefused).reason).toBe('used');
    expect(await portal.ctx.knex('users').where({ is_superuser: true })).toHaveLength(1);
  });
});

describe('admin bootstrap: anonymous wrong tries (issue 14)', () => {
  const portal = useTestPortal();

  it('never lets anonymous wrong tries withdraw the token: 20 from one address get 429 after 10, the right token still works', async () => {
    await ensureBootstrapToken(portal.ctx, captureLog());
    const original = readToken(portal);
    const attacker = portal.agent();
    const page = await attacker.get('/setup');
    const csrf = csrfFrom(page.text);
    // The portal sits behind a trusted proxy on loopback (TRUST_PROXY's default): X-Forwarded-For is the client.
    const wrongTry = (ip: string) =>
      attacker.post('/setup').set('X-Forwarded-For', ip).type('form').send({ _csrf: csrf, token: crypto.randomBytes(32).toString('base64url'), ...GOOD });
    // Twenty addresses, one wrong try each: all refused as wrong, none rate-limited, the token stays.
    for (let i = 1; i <= 20; i += 1) expect((await wrongTry(`198.51.100.${i}`)).status).toBe(403);
    // Twenty from one address: ten wrong, then 429 with a page saying when to try again.
    const statuses: number[] = [];
    let limited = null as Awaited<ReturnType<typeof wrongTry>> | null;
    for (let i = 1; i <= 20; i += 1) {
      const res = await wrongTry('203.0.113.7');
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses).toEqual([...Array(10).fill(403), ...Array(10).fill(429)]);
    expect(limited!.text).toContain('このアドレスからの失敗が多すぎます');
    expect(limited!.text).toContain('設定トークンは無効になっていません');
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThan(0);
    expect(readToken(portal)).toBe(original);
    const tokens = await portal.ctx.knex('portal.bootstrap_tokens').orderBy('id');
    expect(tokens.map((t) => t.spent_reason)).toEqual([null]);
    expect(tokens[0].failed_attempts).toBe(30); // counted for the dashboard, but harmless

    // The operator, from their own address, still gets in with the token from the file.
    const operator = portal.agent();
    const form = await operator.get('/setup');
    const ok = await operator.post('/setup').set('X-Forwarded-For', '192.0.2.10').type('form').send({ _csrf: csrfFrom(form.text), token: original, ...GOOD });
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe('/admin');
    expect(await portal.ctx.knex('users').where({ is_superuser: true }).first()).toBeDefined();
  });
});
