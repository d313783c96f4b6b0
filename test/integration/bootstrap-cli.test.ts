import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { type TestPortal, signedInAgent } from '../support/portal';
import { buildUser } from '../support/factories';
import { ROOT, runCli, type CliResult } from '../support/cli';
import { ensureBootstrapToken } from '../../src/features/bootstrap/tokens';
import { tokenFilePath } from '../../src/features/bootstrap/token-file';
import { useTestPortal } from '../support/portal-stack';
import { setupSchema } from '../../src/features/bootstrap/schema';
import { translator } from '../../src/i18n';
import { EXIT } from '../../src/cli/exit-codes';


function pythonCheck(password: string, encoded: string): boolean {
  const script = `import hashlib,base64,sys,hmac
alg,it,salt,h=sys.argv[2].split('$')
assert alg=='pbkdf2_sha256' and it=='1000000'
d=hashlib.pbkdf2_hmac('sha256',sys.argv[1].encode(),salt.encode(),int(it),32)
print(hmac.compare_digest(base64.b64encode(d).decode(),h))`;
  return execFileSync('python3', ['-c', script, password, encoded], { encoding: 'utf8' }).trim() === 'True';
}

/** The real CLI as the operator runs it, in its own process, against the test database (nothing else in its environment). */
function cli(portal: TestPortal, args: string[], stdin = ''): Promise<CliResult> {
  return runCli(args, { cleanEnv: true, env: { DATABASE_URL: portal.db.url, DATA_DIR: portal.dataDir, LOG_LEVEL: 'silent' }, stdin });
}

describe('recovery-portal admin (CLI)', () => {
  const portal = useTestPortal();

  it('admin setup-token replaces an expired web token (file and stderr), keeps a valid one', async () => {
    await ensureBootstrapToken(portal.ctx, { warn: () => undefined, info: () => undefined, error: () => undefined });
    const old = fs.readFileSync(tokenFilePath(portal.dataDir), 'utf8').trim();
    await portal.ctx.knex('portal.bootstrap_tokens').whereNull('spent_at').update({ expires_at: portal.ctx.knex.raw("now() - interval '1 minute'") });
    const r = await cli(portal, ['admin', 'setup-token']);
    expect(r.code).toBe(0);
    const fresh = fs.readFileSync(tokenFilePath(portal.dataDir), 'utf8').trim();
    expect(fresh).not.toBe(old);
    expect(r.stderr).toContain(`enter the one-time setup token ${fresh}`);
    expect(r.stdout).toBe('');
  });

  it('admin create --password-stdin creates the superuser as create_superuser does, audited, and closes /setup', async () => {
    expect(fs.existsSync(tokenFilePath(portal.dataDir))).toBe(true);

    const r = await cli(portal, ['admin', 'create', '--email', 'Ops@Example.ORG', '--display-id', 'ops_root', '--password-stdin', '--json'], 'quiet-harbour-lantern-7\n');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout) as { id: number };
    const u = await portal.ctx.knex('users').where({ id: printed.id }).first();
    // role ADMIN by default: TOYBOX's console (/admin/console/) admits only ADMIN; is_staff/is_superuser open Django admin
    expect(u).toMatchObject({ email: 'Ops@example.org', display_id: 'ops_root', role: 'ADMIN', is_staff: true, is_superuser: true, is_active: true, is_suspended: false, last_login: null });
    expect(u.created_at).toBeInstanceOf(Date);
    expect(u.updated_at).toBeInstanceOf(Date);
    expect(pythonCheck('quiet-harbour-lantern-7', u.password)).toBe(true); // the trailing newline was not part of it
    const meta = await portal.ctx.knex('user_meta').where({ user_id: u.id });
    expect(meta).toHaveLength(1);
    expect(meta[0].header_url).toBe(''); // as Django writes it (URLField, blank=True): an empty string, not NULL

    const audit = await portal.ctx.knex('portal.audit_log').where({ action: 'bootstrap.superuser_created' }).first();
    expect(audit.actor).toMatch(/^cli:/);
    expect(audit.details.via).toBe('cli');
    expect(JSON.stringify(audit)).not.toContain('quiet-harbour');
    // a superuser exists now: the web token is retired and its file gone
    expect(fs.existsSync(tokenFilePath(portal.dataDir))).toBe(false);
    expect(await portal.ctx.knex('portal.bootstrap_tokens').whereNull('spent_at')).toHaveLength(0);
    expect((await portal.agent().get('/setup')).status).toBe(404);

    const closed = await cli(portal, ['admin', 'setup-token']);
    expect(closed.code).toBe(3);
    expect(closed.stderr).toContain('an active superuser exists');
    expect(fs.existsSync(tokenFilePath(portal.dataDir))).toBe(false);
  });

  it('refuses duplicates (e-mail in any case, or display id) with a clear message and a non-zero exit', async () => {
    const byEmail = await cli(portal, ['admin', 'create', '--email', 'ops@EXAMPLE.org', '--display-id', 'other_root', '--password-stdin'], 'quiet-harbour-lantern-8');
    expect(byEmail.code).toBe(3);
    expect(byEmail.stderr).toContain('a user with e-mail Ops@example.org already exists');
    expect(byEmail.stderr).toContain('recovery-portal admin promote');

    const byId = await cli(portal, ['admin', 'create', '--email', 'new@example.org', '--display-id', 'ops_root', '--password-stdin'], 'quiet-harbour-lantern-8');
    expect(byId.code).toBe(3);
    expect(byId.stderr).toContain('display id ops_root is already used');
    expect(await portal.ctx.knex('users').whereIn('email', ['new@example.org'])).toHaveLength(0);

    const weak = await cli(portal, ['admin', 'create', '--email', 'weak@example.org', '--display-id', 'weak_root', '--password-stdin'], '12345678');
    expect(weak.code).toBe(2);
    expect(weak.stderr).toContain('This password is too common. This password is entirely numeric.');
  });

  it('admin create checks its flags with the /setup form\'s own rules and messages, per flag, exit 2 and nothing created', async () => {
    const t = translator('en');
    const before = await portal.ctx.knex('users').count<{ count: string }[]>({ count: '*' });
    const bad = await cli(portal, ['admin', 'create', '--email', 'not-an-address', '--display-id', 'No Spaces!', '--password-stdin'], 'river-stone-lantern-3');
    expect(bad.code).toBe(EXIT.invalid);
    expect(bad.stderr).toContain(`--email: ${t('bootstrap.errors.email_invalid')}`);
    expect(bad.stderr).toContain(`--display-id: ${t('bootstrap.errors.display_id_invalid')}`);
    const long = await cli(portal, ['admin', 'create', '--email', 'long@example.org', '--display-id', 'long_root', '--password-stdin'], 'x'.repeat(5000));
    expect(long.code).toBe(EXIT.invalid);
    expect(long.stderr).toContain(`password: ${t('bootstrap.errors.password_too_long')}`);
    // the web form says the same for the same values
    expect(setupSchema.safeParse({ token: 't', email: 'not-an-address', display_id: 'No Spaces!', password: 'p', password_confirm: 'p' }).error?.issues.map((i) => i.message)).toEqual(
      expect.arrayContaining(['bootstrap.errors.email_invalid', 'bootstrap.errors.display_id_invalid']),
    );
    expect(await portal.ctx.knex('users').count<{ count: string }[]>({ count: '*' })).toEqual(before);
  });

  it('admin create asks its questions (scripted on stdin), re-asking until the passwords match', async () => {
    const answers = ['helper@example.org', 'Helper_Two', 'first-try-mismatch', 'something-else', 'amber-violin-meadow-9', 'amber-violin-meadow-9', ''].join('\n');
    const r = await cli(portal, ['admin', 'create'], answers);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('E-mail address: ');
    expect(r.stderr).toContain("Error: your passwords didn't match.");
    expect(r.stdout).toContain('superuser created: helper_two <helper@example.org>');
    const u = await portal.ctx.knex('users').where({ display_id: 'helper_two' }).first();
    expect(u.role).toBe('ADMIN');
    expect(r.stdout).toContain("role ADMIN: can open Django admin (/admin/) and TOYBOX's console (/admin/console/)");
    expect(pythonCheck('amber-violin-meadow-9', u.password)).toBe(true);
  });

  it('admin create --role superuser makes what createsuperuser makes, and says the console will not open; a wrong role exits 2 (bad input)', async () => {
    const r = await cli(portal, ['admin', 'create', '--email', 'django@example.org', '--display-id', 'django_only', '--role', 'superuser', '--password-stdin'], 'copper-kettle-orchard-4');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("role SUPERUSER: can open Django admin (/admin/); TOYBOX's console (/admin/console/) admits only ADMIN");
    expect(await portal.ctx.knex('users').where({ display_id: 'django_only' }).first('role', 'is_staff', 'is_superuser')).toEqual({ role: 'SUPERUSER', is_staff: true, is_superuser: true });
    const bad = await cli(portal, ['admin', 'create', '--email', 'x@example.org', '--display-id', 'x_root', '--role', 'owner', '--password-stdin'], 'copper-kettle-orchard-4');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--role: Choose ADMIN or SUPERUSER as the role.'); // the web form's message for the same field
    const help = await cli(portal, ['admin', 'create', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain("admin (default): role ADMIN, opens Django admin (/admin/) and TOYBOX's console (/admin/console/)");
  });

  it('on a terminal, admin create echoes the answers but never the password', async () => {
    // A real pseudo-terminal from Python's pty module: readline runs in terminal mode as for an operator.
    const script = `import os,pty,sys,time,select,json
env=json.loads(sys.argv[1])
pid,fd=pty.fork()
if pid==0:
    os.chdir(env.pop('CWD'))
    os.execve(sys.argv[2],[sys.argv[2],'--import','tsx','src/cli/main.ts','admin','create'],env)
out=b''
def until(s):
    global out
    end=time.time()+60
    while s not in out:
        if time.time()>end: sys.exit('timeout waiting for %r in %r'%(s,out))
        r,_,_=select.select([fd],[],[],0.2)
        if r:
            try: d=os.read(fd,4096)
            except OSError: break
            if not d: break
            out+=d
for prompt,answer in ((b'E-mail address: ',b'pty@example.org'),(b'Display id',b'pty_root'),(b'Password: ',b'hidden-pty-secret-5'),(b'(again): ',b'hidden-pty-secret-5')):
    until(prompt); time.sleep(0.1); os.write(fd,answer+b'\\r')
until(b'superuser created')
_,status=os.waitpid(pid,0)
print(json.dumps({'out':out.decode('utf8','replace'),'status':os.waitstatus_to_exitcode(status)}))`;
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: portal.db.url, DATA_DIR: portal.dataDir, LOG_LEVEL: 'silent', NODE_ENV: 'test', CWD: ROOT };
    const result = JSON.parse(execFileSync('python3', ['-c', script, JSON.stringify(env), process.execPath], { encoding: 'utf8', timeout: 90_000 })) as { out: string; status: number };
    expect(result.status).toBe(0);
    expect(result.out).toContain('pty@example.org');
    expect(result.out).toContain('pty_root');
    expect(result.out).not.toContain('hidden-pty-secret');
    const u = await portal.ctx.knex('users').where({ display_id: 'pty_root' }).first();
    expect(pythonCheck('hidden-pty-secret-5', u.password)).toBe(true);
  });

  it('admin promote makes a re-registered account a superuser (audited); unknown accounts exit 4', async () => {
    const person = await buildUser(portal.ctx.knex, { email: 'returning@example.net' });
    const r = await cli(portal, ['admin', 'promote', 'RETURNING@example.net']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`promoted to superuser: ${person.display_id}`);
    const u = await portal.ctx.knex('users').where({ id: person.id }).first();
    expect(u).toMatchObject({ role: 'ADMIN', is_staff: true, is_superuser: true, is_active: true });
    const audit = await portal.ctx.knex('portal.audit_log').where({ action: 'admin.promote' }).first();
    expect(audit.target).toBe(`user:${person.id}:${person.display_id}`);
    expect(audit.details.previous_role).toBe('FREE_USER');
    expect(audit.details.role).toBe('ADMIN');

    // An account createsuperuser made (role SUPERUSER, no console) is promoted to ADMIN so it can open the console.
    const djangoMade = await buildUser(portal.ctx.knex, { email: 'made-by-django@example.net', role: 'SUPERUSER', is_superuser: true, is_staff: true });
    const fix = await cli(portal, ['admin', 'promote', djangoMade.email]);
    expect(fix.code).toBe(0);
    expect(await portal.ctx.knex('users').where({ id: djangoMade.id }).first('role')).toEqual({ role: 'ADMIN' });
    const same = await cli(portal, ['admin', 'promote', djangoMade.email]);
    expect(same.stdout).toContain('is already an active superuser with role ADMIN; nothing changed');
    const back = await cli(portal, ['admin', 'promote', djangoMade.email, '--role', 'SUPERUSER']);
    expect(back.code).toBe(0);
    expect(await portal.ctx.knex('users').where({ id: djangoMade.id }).first('role')).toEqual({ role: 'SUPERUSER' });

    const missing = await cli(portal, ['admin', 'promote', 'nobody@example.net']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('no TOYBOX user with e-mail or display id nobody@example.net');
  });

  it('admin set-password gives the locked-out admin a new Django hash (audited), refusing weak passwords', async () => {
    const admin = await buildUser(portal.ctx.knex, { email: 'locked@example.net', is_superuser: true, is_staff: true });
    const before = await portal.ctx.knex('users').where({ id: admin.id }).first();
    const oldSession = await signedInAgent(portal, admin.display_id, admin.password);
    expect((await oldSession.get('/admin')).status).toBe(200);

    const weak = await cli(portal, ['admin', 'set-password', 'locked@example.net', '--password-stdin'], 'locked@example.net');
    expect(weak.code).toBe(2);
    expect(weak.stderr).toContain('too similar to the e-mail address');

    const r = await cli(portal, ['admin', 'set-password', 'locked@example.net', '--password-stdin'], 'copper-kite-orchard-3\n');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const after = await portal.ctx.knex('users').where({ id: admin.id }).first();
    expect(after.password).not.toBe(before.password);
    expect(pythonCheck('copper-kite-orchard-3', after.password)).toBe(true);
    expect(after.updated_at.getTime()).toBeGreaterThan(before.updated_at.getTime());
    const audit = await portal.ctx.knex('portal.audit_log').where({ action: 'admin.set_password' }).first();
    expect(audit.target).toBe(`user:${admin.id}:${admin.display_id}`);
    expect(JSON.stringify(audit)).not.toContain('copper-kite');
    // whoever held the old password is signed out
    expect((await oldSession.get('/admin')).status).toBe(303);
  });
});
