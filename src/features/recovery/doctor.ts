import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import pg from 'pg';
import nodemailer from 'nodemailer';
import type { Config } from '../../config';
import { formatJst } from '../../i18n/tokyo-time';
import { smtpTransportOptions, createMailer } from '../../mail/mailer';

export type FindingStatus = 'ok' | 'warn' | 'fail';

/** One line of `recovery-portal doctor`: what was found, and the fix when it is not ok. */
export interface Finding {
  id: string;
  status: FindingStatus;
  message: string;
  fix?: string;
}

export interface DoctorOptions {
  /** Sends one real message to this address (otherwise SMTP is only verified). */
  sendTestMail?: string;
  /** The local clock, compared with the database's now(). */
  now?: () => Date;
  timeoutMs?: number;
}

const ok = (id: string, message: string): Finding => ({ id, status: 'ok', message });
const warn = (id: string, message: string, fix: string): Finding => ({ id, status: 'warn', message, fix });
const fail = (id: string, message: string, fix: string): Finding => ({ id, status: 'fail', message, fix });

/** Shannon entropy of the secret's characters, times its length: a rough bound on guessable bits. */
export function secretBits(secret: string): number {
  const counts = new Map<string, number>();
  for (const ch of secret) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) h -= (n / secret.length) * Math.log2(n / secret.length);
  return h * secret.length;
}

function checkConfig(config: Config): Finding[] {
  const production = config.NODE_ENV === 'production';
  const out: Finding[] = [];
  const https = config.PUBLIC_URL.startsWith('https://');
  if (https) out.push(ok('public_url', `PUBLIC_URL is ${config.PUBLIC_URL}`));
  else if (production) out.push(fail('public_url', `PUBLIC_URL is ${config.PUBLIC_URL}, not https, in production`, 'set PUBLIC_URL=https://your-portal-host (cookies are Secure only over https)'));
  else out.push(ok('public_url', `PUBLIC_URL is ${config.PUBLIC_URL} (https is required once NODE_ENV=production)`));
  if (!production) out.push(ok('session_secret', 'SESSION_SECRET: outside production a generated secret in DATA_DIR is used'));
  else {
    const bits = secretBits(config.SESSION_SECRET);
    const weak = /^(.)\1*$/.test(config.SESSION_SECRET) || /change.?me|secret|password|example/i.test(config.SESSION_SECRET) || bits < 128;
    out.push(weak
      ? fail('session_secret', `SESSION_SECRET looks weak (about ${Math.floor(bits)} bits)`, 'set SESSION_SECRET=$(openssl rand -hex 32) and restart (signs everyone out)')
      : ok('session_secret', `SESSION_SECRET is strong (about ${Math.floor(bits)} bits)`));
  }
  return out;
}

async function probeWritable(dir: string): Promise<string | null> {
  try {
    await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
    const probe = path.join(dir, `.doctor-${crypto.randomBytes(4).toString('hex')}`);
    // removed even when the write fails half-way (a full disk creates the file, then refuses the bytes)
    await fs.promises.writeFile(probe, 'ok', { mode: 0o600 }).finally(() => fs.promises.rm(probe, { force: true }));
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
}

async function checkDataDir(config: Config): Promise<Finding> {
  const problem = await probeWritable(config.DATA_DIR);
  if (problem) return fail('data_dir', `DATA_DIR ${config.DATA_DIR} is not writable (${problem})`, `create it writable by the portal's user: mkdir -p ${config.DATA_DIR} && chmod 700 ${config.DATA_DIR}`);
  const mode = (await fs.promises.stat(config.DATA_DIR)).mode & 0o777;
  // 0711 is the portal's own choice (others may pass through to public/ for Caddy's fallback, never list or write).
  if (mode & 0o006) return fail('data_dir', `DATA_DIR ${config.DATA_DIR} is readable or writable by everyone (mode ${mode.toString(8)}); it holds the session secret and tokens`, `chmod 711 ${config.DATA_DIR}`);
  return ok('data_dir', `DATA_DIR ${config.DATA_DIR} is writable, mode ${mode.toString(8)}`);
}

interface DbFacts {
  client: pg.Client;
  serverMajor: number;
}

async function connect(config: Config, timeoutMs: number): Promise<{ facts: DbFacts | null; finding: Finding }> {
  if (!config.DATABASE_URL) {
    const f = config.NODE_ENV === 'production'
      ? warn('database', 'embedded database (PGlite in DATA_DIR): database checks skipped', 'production should use PostgreSQL: set DATABASE_URL')
      : ok('database', 'embedded database (PGlite in DATA_DIR): database checks skipped');
    return { facts: null, finding: f };
  }
  const client = new pg.Client({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ v: string; n: string }>(`SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n`);
    const serverMajor = Math.floor(Number(rows[0]!.n) / 10000);
    return { facts: { client, serverMajor }, finding: ok('database', `PostgreSQL ${rows[0]!.v} answers`) };
  } catch (err) {
    await client.end().catch(() => undefined);
    return { facts: null, finding: fail('database', `cannot connect to DATABASE_URL: ${(err as Error).message} (checks that need the database were skipped)`, 'check DATABASE_URL, that PostgreSQL runs, and pg_hba.conf') };
  }
}

async function checkClock(db: DbFacts, now: () => Date): Promise<Finding> {
  const before = Date.now();
  const { rows } = await db.client.query<{ t: Date }>('SELECT now() AS t');
  const rtt = Date.now() - before;
  const skew = Math.abs(rows[0]!.t.getTime() + rtt / 2 - now().getTime()) / 1000;
  if (skew > 30) return fail('clock', `this host's clock is ${skew.toFixed(1)} s away from the database's`, 'enable time sync on both hosts (timedatectl set-ntp true)');
  if (skew > 2) return warn('clock', `this host's clock is ${skew.toFixed(1)} s away from the database's`, 'enable time sync on both hosts (timedatectl set-ntp true)');
  return ok('clock', `clock within ${skew.toFixed(1)} s of the database's`);
}

async function fetchWithTimeout(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  return fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
}

async function checkBanner(config: Config, timeoutMs: number): Promise<Finding[]> {
  const origin = new URL(config.TOYBOX_URL).origin;
  const out: Finding[] = [];
  if (config.NODE_ENV === 'production' && /^http:\/\/(localhost|127\.0\.0\.1)(:|$)/.test(origin)) {
    out.push(fail('toybox_origin', `TOYBOX_URL is ${config.TOYBOX_URL} (the default) in production`, "set TOYBOX_URL to TOYBOX's public origin, e.g. https://toybox.example"));
  } else out.push(ok('toybox_origin', `TOYBOX origin is ${origin}`));
  const url = `${config.PUBLIC_URL}/banner.js`;
  try {
    const res = await fetchWithTimeout(url, { headers: { origin } }, timeoutMs);
    const allowed = res.headers.get('access-control-allow-origin');
    await res.arrayBuffer().catch(() => undefined);
    if (res.status !== 200) out.push(fail('banner', `${url} answered ${res.status}`, 'check that the portal runs at PUBLIC_URL and that the proxy passes /banner.js through'));
    else if (allowed !== origin) out.push(fail('banner', `${url} does not allow ${origin} (Access-Control-Allow-Origin: ${allowed ?? 'none'})`, "TOYBOX_URL must be exactly TOYBOX's origin, and the proxy must not strip CORS headers"));
    else out.push(ok('banner', `${url} is served to ${origin} with CORS`));
  } catch (err) {
    out.push(fail('banner', `${url} is not reachable: ${(err as Error).cause ? String((err as Error & { cause: Error }).cause.message) : (err as Error).message}`, 'start the portal (recovery-portal is the CLI; the server is `node dist/src/main.js`) and check PUBLIC_URL'));
  }
  return out;
}

async function checkRegisterApi(config: Config, timeoutMs: number): Promise<Finding> {
  const url = `${config.TOYBOX_URL}/api/auth/register/`;
  try {
    const res = await fetchWithTimeout(url, { method: 'OPTIONS' }, timeoutMs);
    await res.arrayBuffer().catch(() => undefined);
    if (res.status === 404) return fail('toybox_register', `${url} answered 404`, "TOYBOX_URL does not point at TOYBOX's API (the register endpoint is missing)");
    if (res.status >= 500) return fail('toybox_register', `${url} answered ${res.status}`, "TOYBOX's API is failing: check its container and logs");
    return ok('toybox_register', `${url} answers (${res.status})`);
  } catch (err) {
    return fail('toybox_register', `${url} is not reachable: ${(err as Error).message}`, "check TOYBOX_URL and that TOYBOX's API is up");
  }
}

async function checkSmtp(config: Config, sendTo?: string): Promise<Finding[]> {
  if (!config.SMTP_URL) {
    const f = warn('smtp', 'SMTP_URL is not set: mail is only written to DATA_DIR/outbox', 'set SMTP_URL=smtp://user:password@host:587');
    return sendTo ? [f, fail('test_mail', `no test message sent to ${sendTo}: there is no SMTP server`, 'set SMTP_URL')] : [f];
  }
  const host = new URL(config.SMTP_URL).host;
  const transport = nodemailer.createTransport({ ...smtpTransportOptions(config, { pool: false }), connectionTimeout: 5000, greetingTimeout: 5000, socketTimeout: 10_000 });
  const out: Finding[] = [];
  try {
    await transport.verify();
    out.push(ok('smtp', `SMTP server ${host} answers${new URL(config.SMTP_URL).username ? ' and accepts the credentials' : ''}`));
  } catch (err) {
    const e = err as Error & { code?: string };
    const auth = e.code === 'EAUTH';
    out.push(fail('smtp', `SMTP server ${host}: ${e.message}`, auth ? 'check the user and password in SMTP_URL' : 'check the host and port in SMTP_URL, and the firewall'));
  } finally {
    transport.close();
  }
  if (sendTo && out[0]!.status === 'ok') {
    try {
      const mailer = createMailer(config, { pool: false });
      const r = await mailer.send({ to: sendTo, subject: 'TOYBOX recovery portal: doctor test message', text: `Sent by recovery-portal doctor at ${formatJst(new Date())}.` });
      mailer.close();
      out.push(ok('test_mail', `test message accepted for ${sendTo} (${r.messageId})`));
    } catch (err) {
      out.push(fail('test_mail', `test message to ${sendTo} failed: ${(err as Error).message}`, 'read the SMTP server log for the rejection'));
    }
  }
  return out;
}

function checkDkim(config: Config): Finding {
  const set = [config.DKIM_DOMAIN, config.DKIM_SELECTOR, config.DKIM_PRIVATE_KEY_FILE].filter(Boolean).length;
  if (set === 0) return warn('dkim', 'DKIM is not configured: mail is not signed and may land in spam', 'set DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE, and publish the key in DNS');
  if (set < 3) return fail('dkim', 'DKIM is half configured', 'set all three of DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY_FILE');
  let pem: string;
  try {
    pem = fs.readFileSync(config.DKIM_PRIVATE_KEY_FILE!, 'utf8');
  } catch (err) {
    return fail('dkim', `DKIM_PRIVATE_KEY_FILE ${config.DKIM_PRIVATE_KEY_FILE} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, "fix the path, and make the file readable by the portal's user (chmod 600)");
  }
  try {
    crypto.createPrivateKey(pem);
  } catch {
    return fail('dkim', `DKIM_PRIVATE_KEY_FILE ${config.DKIM_PRIVATE_KEY_FILE} is not a PEM private key`, 'generate one: openssl genrsa -out dkim.pem 2048');
  }
  return ok('dkim', `DKIM key readable (${config.DKIM_SELECTOR}._domainkey.${config.DKIM_DOMAIN})`);
}

function toolVersion(bin: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(bin, ['--version'], { timeout: 5000 }, (err, stdout) => resolve(err ? null : stdout.trim()));
  });
}

/** Pure: a client tool's `--version` output against the server's major version (older cannot dump a newer server). */
export function judgePgTool(name: string, bin: string, version: string | null, serverMajor: number): Finding {
  if (!version) return fail(name, `${bin} not found`, `install postgresql-client-${serverMajor} or set PG_BIN`);
  const major = Number(/\d+/.exec(version)?.[0]);
  if (!(major >= serverMajor)) return fail(name, `${version} is older than the server (${serverMajor})`, `install postgresql-client-${serverMajor} and set PG_BIN=/usr/lib/postgresql/${serverMajor}/bin`);
  return ok(name, `${version} (server ${serverMajor})`);
}

async function checkPgTools(config: Config, db: DbFacts): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const name of ['pg_dump', 'pg_restore']) {
    const bin = config.PG_BIN ? path.join(config.PG_BIN, name) : name;
    out.push(judgePgTool(name, bin, await toolVersion(bin), db.serverMajor));
  }
  return out;
}

async function checkCreateDb(db: DbFacts): Promise<Finding> {
  const { rows } = await db.client.query<{ role: string; can: boolean }>(
    `SELECT current_user AS role, rolcreatedb OR rolsuper AS can FROM pg_roles WHERE rolname = current_user`,
  );
  const r = rows[0]!;
  return r.can
    ? ok('createdb', `role ${r.role} can create the restore drill's scratch database`)
    : fail('createdb', `role ${r.role} cannot create databases: restore drills will fail`, `ALTER ROLE ${r.role} CREATEDB;`);
}

/** Pure: what BACKUP_DIR's free space means for two more backups of this size. */
export function judgeBackupSpace(freeBytes: number, databaseBytes: number): Finding {
  const need = 2 * databaseBytes;
  const mb = (n: number) => `${Math.round(n / 1024 / 1024)} MB`;
  if (freeBytes < need) return fail('backup_space', `BACKUP_DIR has ${mb(freeBytes)} free; two backups of a ${mb(databaseBytes)} database need up to ${mb(need)}`, 'free space or move BACKUP_DIR to a larger disk');
  return ok('backup_space', `BACKUP_DIR has ${mb(freeBytes)} free (two backups need up to ${mb(need)})`);
}

function isLocalDatabase(url: string): boolean {
  const host = new URL(url).hostname;
  return host === '' || host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || host.startsWith('/');
}

async function checkBackupDir(config: Config, db: DbFacts | null): Promise<Finding[]> {
  const problem = await probeWritable(config.BACKUP_DIR);
  if (problem) return [fail('backup_dir', `BACKUP_DIR ${config.BACKUP_DIR} is not writable (${problem})`, `mkdir -p ${config.BACKUP_DIR} && chmod 700 ${config.BACKUP_DIR} (as the portal's user)`)];
  const out: Finding[] = [];
  const dev = (await fs.promises.stat(config.BACKUP_DIR)).dev;
  const sameAs: string[] = [];
  if ((await fs.promises.stat(config.DATA_DIR).catch(() => null))?.dev === dev) sameAs.push('DATA_DIR');
  if (db && config.DATABASE_URL && isLocalDatabase(config.DATABASE_URL)) {
    const dataDirectory = await db.client.query<{ d: string }>('SELECT current_setting($1) AS d', ['data_directory']).then((r) => r.rows[0]!.d).catch(() => null);
    if (dataDirectory && (await fs.promises.stat(dataDirectory).catch(() => null))?.dev === dev) sameAs.push("the database's data directory");
  }
  out.push(sameAs.length
    ? warn('backup_dir', `BACKUP_DIR ${config.BACKUP_DIR} is on the same filesystem as ${sameAs.join(' and ')}: one disk failure takes both`, 'put BACKUP_DIR on another disk, and set BACKUP_OFFHOST_COMMAND')
    : ok('backup_dir', `BACKUP_DIR ${config.BACKUP_DIR} is writable, on its own filesystem`));
  if (db) {
    const size = Number((await db.client.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n')).rows[0]!.n);
    const s = await fs.promises.statfs(config.BACKUP_DIR);
    out.push(judgeBackupSpace(s.bavail * s.bsize, size));
  }
  return out;
}

/**
 * Checks the configuration the way a careful operator would, in the order of
 * the first-hour runbook: basics, the notice banner, invitations (TOYBOX's
 * register API, SMTP, DKIM), backups. Sends no mail unless asked; creates
 * nothing but a probe file it removes.
 */
export async function runDoctor(config: Config, opts: DoctorOptions = {}): Promise<Finding[]> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const findings: Finding[] = [...checkConfig(config), await checkDataDir(config)];
  const { facts, finding } = await connect(config, timeoutMs);
  findings.push(finding);
  try {
    if (facts) findings.push(await checkClock(facts, opts.now ?? (() => new Date())));
    findings.push(...(await checkBanner(config, timeoutMs)));
    findings.push(await checkRegisterApi(config, timeoutMs));
    findings.push(...(await checkSmtp(config, opts.sendTestMail)));
    findings.push(checkDkim(config));
    if (facts) findings.push(...(await checkPgTools(config, facts)), await checkCreateDb(facts));
    findings.push(...(await checkBackupDir(config, facts)));
  } finally {
    await facts?.client.end().catch(() => undefined);
  }
  return findings;
}

/** 2 on any failure; 1 on warnings with --strict; else 0. */
export function doctorExitCode(findings: Finding[], strict: boolean): number {
  if (findings.some((f) => f.status === 'fail')) return 2;
  if (strict && findings.some((f) => f.status === 'warn')) return 1;
  return 0;
}

export function formatFinding(f: Finding): string {
  const label = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' }[f.status];
  return `${label}  ${f.id.padEnd(16)} ${f.message}${f.fix ? ` -> fix: ${f.fix}` : ''}`;
}
