import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program without a shell; output is kept (trimmed to the last 64 KB) for the record. */
export function runProgram(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; shell?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // A timed-out child is sent SIGTERM and reported with its non-zero status.
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, shell: opts.shell ?? false, stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs });
    let stdout = '';
    let stderr = '';
    const keep = (acc: string, chunk: Buffer) => (acc + chunk.toString('utf8')).slice(-65_536);
    child.stdout.on('data', (c: Buffer) => (stdout = keep(stdout, c)));
    child.stderr.on('data', (c: Buffer) => (stderr = keep(stderr, c)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** A PostgreSQL client program: from PG_BIN when set, else from PATH. */
export function pgProgram(pgBin: string | undefined, name: 'pg_dump' | 'pg_restore' | 'psql'): string {
  return pgBin ? path.join(pgBin, name) : name;
}

/**
 * libpq settings for a URL. The password travels in PGPASSWORD, never on the
 * command line where `ps` would show it.
 */
export function libpqEnv(url: string): NodeJS.ProcessEnv {
  const u = new URL(url);
  const env: NodeJS.ProcessEnv = {
    PGHOST: decodeURIComponent(u.hostname) || 'localhost',
    PGPORT: u.port || '5432',
    PGDATABASE: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres',
  };
  if (u.username) env.PGUSER = decodeURIComponent(u.username);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}

/** The same server, another database: how drills reach the maintenance database and their scratch copy. */
export function urlForDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

export function databaseNameOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}

/** Hides the password of a URL for printing. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    fs.createReadStream(file)
      .on('data', (c) => hash.update(c))
      .on('end', () => resolve())
      .on('error', reject);
  });
  return hash.digest('hex');
}

/** First line of `<program> --version`, or null when it is missing. */
export async function programVersion(cmd: string): Promise<string | null> {
  try {
    const r = await runProgram(cmd, ['--version']);
    return r.code === 0 ? (r.stdout.split('\n')[0] ?? '').trim() : null;
  } catch {
    return null;
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
