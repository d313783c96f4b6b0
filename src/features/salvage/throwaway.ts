import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { runProgram, type RunResult } from '../../system/programs';
import { BadSource, MissingTool } from './errors';

/**
 * A private PostgreSQL server for one salvage step: a fresh cluster (to restore
 * a dump into) or a copy of an old data directory. It listens on a Unix socket
 * in its own 0700 folder only, never on TCP, and is always stopped and deleted.
 * PostgreSQL refuses to run as root, so as root the server runs as `postgres`.
 */
export interface Throwaway {
  socketDir: string;
  superuser: string;
  /** libpq settings for a database on this server. */
  env(database: string): NodeJS.ProcessEnv;
  bin(name: string): string;
  stop(): Promise<void>;
}

const PREFIX = 'salvage-pg-';

/** The directory of the PostgreSQL server binaries of `major`: SALVAGE_PG_BIN, else Debian's layout. */
export async function serverBinaries(configured: string | undefined, major: string): Promise<string> {
  const dir = configured ?? `/usr/lib/postgresql/${major}/bin`;
  const postgres = path.join(dir, 'postgres');
  if (!fs.existsSync(postgres)) {
    const installed = fs.existsSync('/usr/lib/postgresql') ? fs.readdirSync('/usr/lib/postgresql').join(', ') : 'none';
    throw new MissingTool(`PostgreSQL ${major} server binaries not found at ${dir} (installed: ${installed}); install postgresql-${major} or set SALVAGE_PG_BIN`);
  }
  const r = await runProgram(postgres, ['--version']);
  const found = /\(PostgreSQL\) (\d+)/.exec(r.stdout)?.[1];
  if (found !== major) throw new MissingTool(`${postgres} is PostgreSQL ${found ?? '?'}, this step needs PostgreSQL ${major}; set SALVAGE_PG_BIN to PostgreSQL ${major}'s bin directory`);
  return dir;
}

const asRoot = () => process.getuid?.() === 0;

/** Runs a server program as the server's OS user (`postgres` when we are root). */
function runAsServer(bin: string, args: string[], opts: { input?: string } = {}): Promise<RunResult> {
  if (!asRoot()) return runWithInput(bin, args, opts.input);
  return runWithInput('runuser', ['-u', 'postgres', '--', bin, ...args], opts.input);
}

function runWithInput(cmd: string, args: string[], input?: string): Promise<RunResult> {
  if (input === undefined) return runProgram(cmd, args, { timeoutMs: 600_000 });
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout = (stdout + c.toString()).slice(-65536)));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-65536)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function giveToServerUser(dir: string): Promise<void> {
  if (!asRoot()) return;
  const r = await runProgram('chown', ['-R', 'postgres:', dir]);
  if (r.code !== 0) throw new MissingTool(`cannot hand ${dir} to the postgres user: ${r.stderr.trim()}`);
}

/** Stops servers that a killed salvage run left behind (their owner process is gone). */
export async function stopAbandoned(binDir: string): Promise<void> {
  const tmp = os.tmpdir();
  for (const name of fs.readdirSync(tmp).filter((n) => n.startsWith(PREFIX))) {
    const dir = path.join(tmp, name);
    const owner = Number(fs.readFileSync(path.join(dir, 'owner.pid'), 'utf8').trim() || 0);
    let alive = false;
    try {
      process.kill(owner, 0);
      alive = true;
    } catch {
      alive = false;
    }
    if (alive) continue;
    if (fs.existsSync(path.join(dir, 'data', 'postmaster.pid'))) await runAsServer(path.join(binDir, 'pg_ctl'), ['-D', path.join(dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function makeWorkDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), PREFIX));
  fs.chmodSync(dir, 0o700);
  fs.writeFileSync(path.join(dir, 'owner.pid'), String(process.pid), { mode: 0o600 });
  fs.mkdirSync(path.join(dir, 'socket'), { mode: 0o700 });
  return dir;
}

const SERVER_SETTINGS = (dir: string) => [
  '-c', `unix_socket_directories=${path.join(dir, 'socket')}`,
  '-c', "listen_addresses=",
  '-c', 'unix_socket_permissions=0700',
  '-c', `hba_file=${path.join(dir, 'pg_hba.conf')}`,
  '-c', `ident_file=${path.join(dir, 'pg_ident.conf')}`,
  '-c', 'fsync=off',
  '-c', 'archive_mode=off',
  '-c', 'shared_preload_libraries=',
  '-c', 'logging_collector=off',
  '-c', 'max_connections=20',
];

/** The role with oid 10 (the cluster's bootstrap superuser), read in single-user mode: no password or role name needed. */
async function bootstrapSuperuser(bin: string, dataDir: string, dir: string): Promise<string> {
  const r = await runAsServer(path.join(bin, 'postgres'), ['--single', '-D', dataDir, ...SERVER_SETTINGS(dir), 'template1'], { input: 'SELECT rolname FROM pg_authid WHERE oid = 10;\n' });
  const name = /rolname = "([^"]+)"/.exec(r.stdout)?.[1];
  if (!name) throw new BadSource(`the data directory copy does not start: ${(r.stderr.trim().split('\n').find((l) => /FATAL|PANIC|ERROR/.test(l)) ?? r.stderr.trim().split('\n').pop() ?? '').slice(0, 300)}`);
  return name;
}

async function start(bin: string, dir: string, dataDir: string, superuser: string): Promise<Throwaway> {
  const log = path.join(dir, 'server.log');
  const r = await runAsServer(path.join(bin, 'pg_ctl'), ['-D', dataDir, '-w', '-t', '120', '-l', log, '-o', SERVER_SETTINGS(dir).map((a) => (a.includes('=') && a.endsWith('=') ? `${a}''` : a)).join(' '), 'start']);
  if (r.code !== 0) {
    const tail = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' | ') : r.stderr.trim();
    fs.rmSync(dir, { recursive: true, force: true });
    throw new BadSource(`the throwaway PostgreSQL server did not start: ${tail.slice(0, 400)}`);
  }
  return {
    socketDir: path.join(dir, 'socket'),
    superuser,
    bin: (name) => path.join(bin, name),
    env: (database) => ({ PGHOST: path.join(dir, 'socket'), PGPORT: '5432', PGUSER: superuser, PGDATABASE: database, PGPASSWORD: '' }),
    async stop() {
      await runAsServer(path.join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function writeTrustHba(dir: string): void {
  // Only our own socket, only in this folder: trust is safe here and needs no password from the old cluster.
  fs.writeFileSync(path.join(dir, 'pg_hba.conf'), 'local all all trust\n', { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'pg_ident.conf'), '', { mode: 0o600 });
}

/** A fresh empty cluster (to restore a dump into). */
export async function startFreshServer(bin: string): Promise<Throwaway> {
  await stopAbandoned(bin);
  const dir = makeWorkDir();
  writeTrustHba(dir);
  await giveToServerUser(dir);
  const init = await runAsServer(path.join(bin, 'initdb'), ['-D', path.join(dir, 'data'), '-U', 'salvage', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  if (init.code !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new MissingTool(`initdb failed: ${init.stderr.trim().slice(-300)}`);
  }
  return start(bin, dir, path.join(dir, 'data'), 'salvage');
}

/**
 * A copy of an old data directory, started on a private socket. The source is
 * only read (copied); the server runs on the copy, whose postmaster.pid is left
 * out and whose access rules are replaced by socket-only trust.
 */
export async function startCopiedServer(bin: string, source: string): Promise<Throwaway> {
  await stopAbandoned(bin);
  const dir = makeWorkDir();
  const dataDir = path.join(dir, 'data');
  try {
    await fs.promises.cp(source, dataDir, {
      recursive: true,
      filter: (src) => !['postmaster.pid', 'postmaster.opts'].includes(path.basename(src)) || path.dirname(src) !== source,
    });
    if (!fs.existsSync(path.join(dataDir, 'postgresql.conf'))) fs.writeFileSync(path.join(dataDir, 'postgresql.conf'), '');
    fs.chmodSync(dataDir, 0o700);
    writeTrustHba(dir);
    await giveToServerUser(dir);
    const superuser = await bootstrapSuperuser(bin, dataDir, dir);
    return await start(bin, dir, dataDir, superuser);
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
