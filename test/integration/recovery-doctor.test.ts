import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { parseConfig } from '../../src/config';
import { runDoctor, doctorExitCode, judgeBackupSpace, judgePgTool, type Finding } from '../../src/features/recovery/doctor';
import { startTestPortal, tempDir, type TestPortal } from '../support/portal';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { adminDatabaseUrl } from '../support/database';

/**
 * TOYBOX's register endpoint as Django REST framework answers it: OPTIONS is
 * 200 with the view's metadata, GET is 405 (POST only); any other path 404.
 * `missing` plays a TOYBOX_URL that points at something else.
 */
async function startFakeToybox(opts: { missing?: boolean } = {}): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (!opts.missing && req.url === '/api/auth/register/') {
      if (req.method === 'OPTIONS') {
        res.writeHead(200, { 'content-type': 'application/json', allow: 'POST, OPTIONS' });
        return res.end(JSON.stringify({ name: 'Register', renders: ['application/json'], parses: ['application/json'] }));
      }
      res.writeHead(405, { 'content-type': 'application/json', allow: 'POST, OPTIONS' });
      return res.end(JSON.stringify({ detail: `Method "${req.method}" not allowed.` }));
    }
    res.writeHead(404, { 'content-type': 'text/html' });
    res.end('<h1>Not Found</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A real SMTP server that requires AUTH and refuses every credential. */
async function startRefusingSmtp(): Promise<{ url: string; close(): Promise<void> }> {
  const server = new SMTPServer({
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth: (_auth, _session, cb) => cb(new Error('Invalid username or password')),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return { url: `smtp://mailer:wrong@127.0.0.1:${port}?tls=off`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function byId(findings: Finding[]): Record<string, Finding> {
  return Object.fromEntries(findings.map((f) => [f.id, f]));
}

describe('recovery-portal doctor', () => {
  let portal: TestPortal;
  let base: string;
  let toybox: Awaited<ReturnType<typeof startFakeToybox>>;
  let sink: SmtpSink;
  let dataDir: string;
  let backupDir: string;
  let keyFile: string;
  let goodEnv: Record<string, string>;

  beforeAll(async () => {
    toybox = await startFakeToybox();
    sink = await startSmtpSink();
    portal = await startTestPortal({ TOYBOX_URL: toybox.url });
    base = await portal.listen();
    dataDir = tempDir('doctor-data-');
    // /dev/shm is its own filesystem here: a backup disk apart from DATA_DIR and the database.
    backupDir = fs.mkdtempSync('/dev/shm/doctor-backups-');
    keyFile = path.join(dataDir, 'dkim.pem');
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    fs.writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    goodEnv = {
      NODE_ENV: 'test',
      DATABASE_URL: portal.db.url,
      DATA_DIR: dataDir,
      BACKUP_DIR: backupDir,
      PUBLIC_URL: base,
      TOYBOX_URL: toybox.url,
      SMTP_URL: sink.url,
      DKIM_DOMAIN: 'toybox.example',
      DKIM_SELECTOR: 'portal',
      DKIM_PRIVATE_KEY_FILE: keyFile,
      LOG_LEVEL: 'silent',
    };
  });
  afterAll(async () => {
    await portal.close();
    await toybox.close();
    await sink.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(backupDir, { recursive: true, force: true });
  });

  it('passes a good setup, every check ok, and sends no mail', async () => {
    const findings = await runDoctor(parseConfig(goodEnv));
    expect(findings.filter((f) => f.status !== 'ok')).toEqual([]);
    expect(findings.map((f) => f.id)).toEqual([
      'public_url', 'session_secret', 'data_dir', 'database', 'clock', 'toybox_origin', 'banner', 'toybox_register',
      'smtp', 'dkim', 'pg_dump', 'pg_restore', 'createdb', 'backup_dir', 'backup_space',
    ]);
    expect(byId(findings).banner!.message).toContain(`is served to ${toybox.url} with CORS`);
    expect(byId(findings).toybox_register!.message).toContain('answers (200)');
    expect(doctorExitCode(findings, true)).toBe(0);
    expect(sink.messages).toHaveLength(0);
  });

  it('sends one test message only when asked', async () => {
    const findings = await runDoctor(parseConfig(goodEnv), { sendTestMail: 'operator@example.com' });
    expect(byId(findings).test_mail!.status).toBe('ok');
    const [mail] = await sink.waitFor(1);
    expect(mail!.envelopeTo).toEqual(['operator@example.com']);
    expect(mail!.raw).toContain('DKIM-Signature: ');
  });

  it('reports each misconfiguration with its fix (production, wrong origin, no tools, no space to write)', async () => {
    const fileNotDir = path.join(dataDir, 'a-file');
    fs.writeFileSync(fileNotDir, 'x');
    const worldReadable = tempDir('doctor-open-');
    fs.chmodSync(worldReadable, 0o755);
    const role = `doctor_nocreate_${crypto.randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminDatabaseUrl() });
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN NOCREATEDB`);
    try {
      const asRole = new URL(portal.db.url);
      asRole.username = role;
      const findings = await runDoctor(
        parseConfig({
          ...goodEnv,
          NODE_ENV: 'production',
          SESSION_SECRET: 'changeme'.repeat(5),
          TOYBOX_URL: 'http://localhost:8000',
          DATABASE_URL: asRole.toString(),
          DATA_DIR: worldReadable,
          BACKUP_DIR: path.join(fileNotDir, 'backups'),
          SMTP_URL: 'smtp://127.0.0.1:1?tls=off',
          DKIM_PRIVATE_KEY_FILE: path.join(dataDir, 'missing.pem'),
          PG_BIN: path.join(dataDir, 'no-such-bin'),
        }),
        { now: () => new Date(Date.now() + 120_000) },
      );
      const f = byId(findings);
      expect(f.public_url).toMatchObject({ status: 'fail', message: `PUBLIC_URL is ${base}, not https, in production` });
      expect(f.session_secret).toMatchObject({ status: 'fail', fix: expect.stringContaining('openssl rand -hex 32') });
      expect(f.data_dir).toMatchObject({ status: 'fail', message: expect.stringContaining('readable or writable by everyone (mode 755)'), fix: `chmod 711 ${worldReadable}` });
      expect(f.clock).toMatchObject({ status: 'fail', message: expect.stringMatching(/clock is 1\d\d\.\d s away/) });
      expect(f.toybox_origin).toMatchObject({ status: 'fail', message: 'TOYBOX_URL is http://localhost:8000 (the default) in production' });
      expect(f.banner).toMatchObject({ status: 'fail', message: expect.stringContaining('does not allow http://localhost:8000') });
      expect(f.toybox_register).toMatchObject({ status: 'fail', message: expect.stringContaining('is not reachable') });
      expect(f.smtp).toMatchObject({ status: 'fail', fix: expect.stringContaining('host and port') });
      expect(f.dkim).toMatchObject({ status: 'fail', message: expect.stringContaining('cannot be read (ENOENT)') });
      expect(f.pg_dump).toMatchObject({ status: 'fail', message: expect.stringContaining('not found'), fix: 'install postgresql-client-15 or set PG_BIN' });
      expect(f.pg_restore!.status).toBe('fail');
      expect(f.createdb).toMatchObject({ status: 'fail', fix: `ALTER ROLE ${role} CREATEDB;` });
      expect(f.backup_dir).toMatchObject({ status: 'fail', message: expect.stringContaining('is not writable (ENOTDIR)') });
      expect(doctorExitCode(findings, false)).toBe(2);
    } finally {
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
      fs.rmSync(worldReadable, { recursive: true, force: true });
    }
  });

  it('reports the other half: register API missing, SMTP refusing the password, a key that is not a key, unwritable DATA_DIR, shared disks', async () => {
    const elsewhere = await startFakeToybox({ missing: true });
    const refusing = await startRefusingSmtp();
    const notAKey = path.join(dataDir, 'not-a-key.pem');
    fs.writeFileSync(notAKey, 'hello', { mode: 0o600 });
    const sameDisk = tempDir('doctor-same-disk-');
    try {
      const findings = await runDoctor(parseConfig({
        ...goodEnv,
        TOYBOX_URL: elsewhere.url,
        SMTP_URL: refusing.url,
        DKIM_PRIVATE_KEY_FILE: notAKey,
        DATA_DIR: path.join(dataDir, 'a-file', 'data'),
        BACKUP_DIR: sameDisk,
      }));
      const f = byId(findings);
      expect(f.toybox_register).toMatchObject({ status: 'fail', message: `${elsewhere.url}/api/auth/register/ answered 404` });
      // The portal's CORS still names the real TOYBOX: the banner is not offered to this origin.
      expect(f.banner!.status).toBe('fail');
      expect(f.smtp).toMatchObject({ status: 'fail', fix: 'check the user and password in SMTP_URL' });
      expect(f.dkim).toMatchObject({ status: 'fail', message: expect.stringContaining('is not a PEM private key') });
      expect(f.data_dir).toMatchObject({ status: 'fail', message: expect.stringContaining('is not writable') });
      expect(f.backup_dir).toMatchObject({ status: 'warn', message: expect.stringContaining("same filesystem as the database's data directory") });
    } finally {
      await elsewhere.close();
      await refusing.close();
      fs.rmSync(sameDisk, { recursive: true, force: true });
    }
  });

  it('judges tool versions and backup space', () => {
    expect(judgePgTool('pg_dump', 'pg_dump', 'pg_dump (PostgreSQL) 13.4', 15)).toMatchObject({ status: 'fail', fix: expect.stringContaining('/usr/lib/postgresql/15/bin') });
    expect(judgePgTool('pg_dump', 'pg_dump', 'pg_dump (PostgreSQL) 16.1', 15).status).toBe('ok');
    expect(judgeBackupSpace(150 * 1024 * 1024, 100 * 1024 * 1024)).toMatchObject({ status: 'fail', message: 'BACKUP_DIR has 150 MB free; two backups of a 100 MB database need up to 200 MB' });
    expect(judgeBackupSpace(250 * 1024 * 1024, 100 * 1024 * 1024).status).toBe('ok');
  });

  it('as a command: one line per finding, exit 0 / 1 with --strict on warnings / 2 on failures', async () => {
    const run = (args: string[], env: Record<string, string>) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) => {
        execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'doctor', ...args], { env: { PATH: process.env.PATH!, ...env } }, (err, out, errOut) =>
          resolve({ code: err ? Number((err as { code?: number }).code) : 0, out, err: errOut }),
        );
      });
    const good = await run(['--json'], goodEnv);
    expect({ code: good.code, failing: (JSON.parse(good.out || '{"findings":[]}') as { findings: Array<{ status: string }> }).findings.filter((f) => f.status !== 'ok') }).toEqual({ code: 0, failing: [] });
    expect(JSON.parse(good.out).findings).toHaveLength(15);

    const { DKIM_DOMAIN: _d, DKIM_SELECTOR: _s, DKIM_PRIVATE_KEY_FILE: _k, ...noDkim } = goodEnv;
    const lenient = await run([], noDkim);
    expect(lenient.code).toBe(0);
    expect(lenient.out).toMatch(/^WARN  dkim {13}DKIM is not configured: mail is not signed and may land in spam -> fix: set DKIM_DOMAIN/m);
    expect(lenient.out.trim().split('\n')).toHaveLength(15);
    expect((await run(['--strict'], noDkim)).code).toBe(1);

    const broken = await run([], { ...goodEnv, SMTP_URL: 'smtp://127.0.0.1:1?tls=off' });
    expect(broken.code).toBe(2);
    expect(broken.out).toMatch(/^FAIL  smtp {13}SMTP server 127\.0\.0\.1:1: .* -> fix: check the host and port in SMTP_URL/m);
    expect(broken.err).toBe('error: doctor: 1 failure(s), 0 warning(s)\n');
  });
});
