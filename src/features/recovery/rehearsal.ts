import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import type { Config } from '../../config';

/**
 * `recovery-portal drill`: the first-hour runbook rehearsed on a scratch copy.
 * A new database restored from the latest good backup, a scratch DATA_DIR
 * (mail to its outbox, backups inside it), then the runbook's commands, each
 * run as the real `recovery-portal` command against that copy, timed. The
 * live database only ever receives `backup list` and `backup restore --target
 * <scratch>`, which read it. Everything is removed at the end, on failure and
 * on SIGINT/SIGTERM.
 */

export interface StepResult {
  name: string;
  command: string;
  ms: number;
  code: number;
  note: string;
}

const SCRATCH_PREFIX = 'portal_rehearsal_';
const STALE_MS = 6 * 3600_000;

export interface Cli {
  /** The way to run this same `recovery-portal` (node, its flags, the entry script). */
  argv0: string;
  args: string[];
}

export function currentCli(): Cli {
  return { argv0: process.execPath, args: [...process.execArgv, process.argv[1]!] };
}

function urlFor(databaseUrl: string, name: string): string {
  const u = new URL(databaseUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function adminClient(databaseUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: urlFor(databaseUrl, 'postgres') });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

export class Rehearsal {
  readonly scratch = `${SCRATCH_PREFIX}${Date.now().toString(36)}_${crypto.randomBytes(3).toString('hex')}`;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-rehearsal-'));
  readonly results: StepResult[] = [];
  private child: ChildProcess | null = null;
  private stopped = false;
  private createdDatabase = false;
  /** CREATE DATABASE in flight: cleanup waits for it, or an early interrupt would drop nothing and leave the copy. */
  private creating: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: Config,
    private readonly cli: Cli,
    private readonly say: (line: string) => void,
  ) {
    fs.chmodSync(this.dir, 0o700);
  }

  private scratchEnv(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      DATABASE_URL: urlFor(this.config.DATABASE_URL!, this.scratch),
      DATA_DIR: path.join(this.dir, 'data'),
      BACKUP_DIR: path.join(this.dir, 'backups'),
      // Mail to the scratch outbox; nothing leaves the host, nothing is copied off it.
      SMTP_URL: '',
      ALERT_WEBHOOK_URL: '',
      BACKUP_OFFHOST_COMMAND: '',
      TOYBOX_MEDIA_DIR: '',
      SESSION_SECRET: crypto.randomBytes(32).toString('hex'),
    };
  }

  /** Runs one `recovery-portal` command; resolves with its exit code and output. */
  private run(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<{ code: number; out: string; err: string }> {
    return new Promise((resolve) => {
      const child = spawn(this.cli.argv0, [...this.cli.args, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      this.child = child;
      let out = '';
      let err = '';
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(stdin ?? '');
      child.on('error', (e) => resolve({ code: 127, out, err: `${err}${e.message}` }));
      child.on('close', (code, signal) => {
        this.child = null;
        resolve({ code: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1), out, err });
      });
    });
  }

  /** One timed step: stops the rehearsal when it fails, unless `tolerate` says the code is fine. */
  private async step(name: string, args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: string; tolerate?: (code: number) => boolean; note?: (out: string, err: string, code: number) => string } = {}): Promise<string> {
    if (this.stopped) throw new Error('interrupted');
    const started = Date.now();
    const r = await this.run(args, opts.env ?? this.scratchEnv(), opts.stdin);
    const ms = Date.now() - started;
    let note = '';
    try {
      note = opts.note ? opts.note(r.out, r.err, r.code) : (r.out.trim().split('\n').pop() ?? '');
    } catch {
      note = r.out.trim().slice(-120); // output not in the expected shape: show it as it is
    }
    const result = { name, command: `recovery-portal ${args.join(' ')}`, ms, code: r.code, note: note.slice(0, 200) };
    this.results.push(result);
    this.say(`${String(this.results.length).padStart(2)}. ${name.padEnd(38)} ${(ms / 1000).toFixed(1).padStart(6)} s  exit ${r.code}  ${result.note}`);
    if (this.stopped) throw new Error('interrupted');
    if (r.code !== 0 && !(opts.tolerate?.(r.code) ?? false)) throw new Error(`${result.command} exited with ${r.code}: ${r.err.trim().split('\n').slice(-3).join(' | ')}`);
    return r.out;
  }

  /** Drops scratch databases a killed rehearsal left (their names carry their creation time). */
  private async dropStale(admin: pg.Client): Promise<void> {
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [SCRATCH_PREFIX]);
    for (const { datname } of rows) {
      const created = parseInt(datname.slice(SCRATCH_PREFIX.length).split('_')[0] ?? '', 36);
      if (Number.isFinite(created) && Date.now() - created > STALE_MS) await admin.query(`DROP DATABASE IF EXISTS ${quote(datname)} WITH (FORCE)`).catch(() => undefined);
    }
  }

  /** The whole runbook on the copy. Throws on the first failing step (cleanup is the caller's `cleanUp`). */
  async runAll(hasCommand: (name: string) => boolean): Promise<void> {
    const live = process.env;
    const listed = JSON.parse(await this.step('find the latest good backup', ['backup', 'list', '--json'], { env: live, note: (out) => `${(JSON.parse(out || '[]') as unknown[]).length} backup(s) listed` })) as Array<{ id: number; kind: string; status: string }>;
    const latest = listed.find((b) => b.kind === 'database' && b.status === 'good');
    if (!latest) throw new Error('no good database backup to rehearse from: run `recovery-portal backup run` first');
    const admin = await adminClient(this.config.DATABASE_URL!);
    try {
      await this.dropStale(admin);
      this.createdDatabase = true; // before CREATE: an interrupt right after it must still drop it
      this.creating = admin.query(`CREATE DATABASE ${quote(this.scratch)}`);
      await this.creating;
    } finally {
      await admin.end().catch(() => undefined);
    }
    await this.step(`restore backup #${latest.id} into the copy`, ['backup', 'restore', String(latest.id), '--target', urlFor(this.config.DATABASE_URL!, this.scratch)], { env: live });
    // The runbook, in its order (docs/runbooks/first-hour.*.md).
    await this.step('doctor', ['doctor'], { tolerate: () => true, note: (out) => `${out.split('\n').filter((l) => l.startsWith('FAIL')).length} FAIL, ${out.split('\n').filter((l) => l.startsWith('WARN')).length} WARN (not fatal in a rehearsal)` });
    const adminId = `rehearsal_${crypto.randomBytes(3).toString('hex')}`;
    await this.step('admin create', ['admin', 'create', '--email', `${adminId}@rehearsal.invalid`, '--display-id', adminId, '--password-stdin'], { stdin: `${crypto.randomBytes(18).toString('base64url')}\n` });
    await this.step('notice publish', ['notice', 'publish', '--severity', 'critical', '--title-ja', 'リハーサル', '--body-ja', '復旧手順のリハーサルです', '--title-en', 'Rehearsal', '--body-en', 'A rehearsal of the runbook'], { note: (out) => `notice ${out.trim()} published` });
    if (hasCommand('salvage')) await this.step('salvage find', ['salvage', 'find', this.dir], { tolerate: () => true });
    else this.say('    salvage: not in this version of the portal, skipped');
    const list = path.join(this.dir, 'addresses.txt');
    fs.writeFileSync(list, Array.from({ length: 20 }, (_, i) => `member${i + 1}@rehearsal.invalid`).join('\n'), { mode: 0o600 });
    await this.step('addresses import', ['addresses', 'import', list, '--source', 'rehearsal']);
    const body = path.join(this.dir, 'invite.txt');
    fs.writeFileSync(body, '{{display_name}} さん\n再登録はこちら: {{link}}\n配信停止: {{unsubscribe_link}}\n', { mode: 0o600 });
    const created = await this.step('campaign create', ['campaign', 'create', '--name', 'rehearsal', '--subject-ja', 'リハーサル', '--text-ja', body, '--rate', '0'], { note: (out) => `campaign ${out.trim()}` });
    const campaignId = /\d+/.exec(created)?.[0];
    if (!campaignId) throw new Error('campaign create printed no id');
    await this.step('campaign send (to the scratch outbox)', ['campaign', 'send', campaignId, '--quiet']);
    await this.step('backup run', ['backup', 'run'], { note: (_out, err) => err.trim().split('\n').pop() ?? '' });
    await this.step('backup verify latest --drill', ['backup', 'verify', 'latest', '--drill']);
    await this.step('backup test-alert (to the outbox)', ['backup', 'test-alert']);
  }

  /** Stops the running step (its own SIGINT handling cleans up after it) and makes runAll stop. */
  async interrupt(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  /** Drops the scratch database and deletes the scratch directory; says what it removed. */
  async cleanUp(): Promise<void> {
    await this.creating.catch(() => undefined);
    if (this.createdDatabase) {
      const admin = await adminClient(this.config.DATABASE_URL!);
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${quote(this.scratch)} WITH (FORCE)`);
      } finally {
        await admin.end().catch(() => undefined);
      }
      this.say(`dropped scratch database ${this.scratch}`);
    }
    await fs.promises.rm(this.dir, { recursive: true, force: true });
    this.say(`removed scratch directory ${this.dir}`);
  }
}
