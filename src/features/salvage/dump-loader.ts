import fs from 'node:fs';
import zlib from 'node:zlib';
import readline from 'node:readline';
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { libpqEnv } from '../../db/pg-tools';
import { runProgram } from '../../system/programs';
import { BadSource } from './errors';
import { repairLine, type RepairStats } from './mojibake';
import type { TextEncoding } from './sniff';
import type { Throwaway } from './throwaway';

export interface PlainLoadReport {
  encoding: TextEncoding;
  lines: number;
  crlf: boolean;
  /** Ownership and privilege statements left out (their roles do not exist here). */
  skippedStatements: number;
  repairs: RepairStats;
}

const TRAILER = '-- PostgreSQL database dump complete';

/** Waits for a child program and turns a non-zero exit into an error carrying its last stderr lines. */
function finished(child: ReturnType<typeof spawn>, what: string): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-8000)));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${what} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`))));
  });
}

function openInput(file: string, gzip: boolean): Readable {
  const raw = fs.createReadStream(file, { flags: 'r' });
  return gzip ? raw.pipe(zlib.createGunzip()) : raw;
}

/**
 * Feeds a plain-SQL dump to psql on the throwaway server: decoded from its
 * encoding (BOM dropped, CRLF made LF), mojibake repaired field by field where
 * reversible, ownership/privilege statements for roles that do not exist here
 * dropped. A dump without pg_dump's closing line is truncated: an error.
 */
export async function restorePlainDump(file: string, gzip: boolean, encoding: TextEncoding, server: Throwaway): Promise<PlainLoadReport> {
  const report: PlainLoadReport = { encoding, lines: 0, crlf: false, skippedStatements: 0, repairs: { repaired: 0, kept: 0, suspectLines: [] } };
  const psql = spawn(server.bin('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', '-'], { env: { ...process.env, ...server.env('postgres'), PGCLIENTENCODING: 'UTF8' }, stdio: ['pipe', 'ignore', 'pipe'] });
  const done = finished(psql, 'psql');
  psql.stdin!.on('error', () => undefined); // psql stopping early is reported by its exit status
  const base = encoding.replace('-bom', '');
  const input = openInput(file, gzip);
  const decoded = base === 'utf8' ? input.pipe(iconv.decodeStream('utf8')) : input.pipe(iconv.decodeStream(base));
  // readline takes CRLF as one line end; note it from the first chunk for the report.
  decoded.once('data', (c: string | Buffer) => (report.crlf = String(c).includes('\r\n')));
  const lines = readline.createInterface({ input: decoded, crlfDelay: Infinity });
  // pg_dump ends with its closing comment; since 15.14 a `\unrestrict` line may follow it.
  let complete = false;
  let inputError: Error | null = null;
  input.on('error', (e) => (inputError = e));
  try {
    for await (let line of lines) {
      report.lines++;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (/^ALTER [A-Z ]+ .* OWNER TO .*;$/.test(line) || /^(GRANT|REVOKE) .*;$/.test(line)) {
        report.skippedStatements++;
        continue;
      }
      if (/^SET client_encoding = /.test(line)) line = "SET client_encoding = 'UTF8';";
      const out = repairLine(line, report.lines, report.repairs);
      const t = line.trim();
      if (t === TRAILER) complete = true;
      else if (t && !t.startsWith('--') && !t.startsWith('\\unrestrict ')) complete = false;
      // psql may stop (an error) while we wait for it to drain: either ends the wait.
      if (!psql.stdin!.write(`${out}\n`)) await Promise.race([new Promise((r) => psql.stdin!.once('drain', r)), done.catch(() => undefined)]);
      if (psql.exitCode !== null) break;
    }
  } catch (err) {
    inputError = err as Error;
  }
  psql.stdin!.end();
  if (inputError) throw new BadSource(`${file}: the dump cannot be read to its end (${(inputError as Error).message}): truncated or damaged`);
  const loaded = await done.then(() => null, (e: Error) => e);
  if (!complete) throw new BadSource(`${file}: truncated: the dump stops after line ${report.lines} without pg_dump's closing line "${TRAILER}"`);
  if (loaded) throw new BadSource(`${file}: the dump does not load: ${loaded.message}`);
  return report;
}

/** Restores a custom-format archive (pg_restore, no owners or privileges) into the throwaway server. */
export async function restoreCustomDump(file: string, gzip: boolean, server: Throwaway): Promise<void> {
  const env = { ...process.env, ...server.env('postgres') };
  const run = async (args: string[], what: string) => {
    const child = spawn(server.bin('pg_restore'), args, { env, stdio: ['pipe', 'ignore', 'pipe'] });
    const done = finished(child, what);
    child.stdin!.on('error', () => undefined);
    openInput(file, gzip)
      .on('error', () => child.stdin!.destroy())
      .pipe(child.stdin!);
    await done;
  };
  try {
    await run(['-l', '-f', '/dev/null'], 'pg_restore --list');
    await run(['--no-owner', '--no-privileges', '--exit-on-error', '-d', 'postgres'], 'pg_restore');
  } catch (err) {
    throw new BadSource(`${file}: truncated or damaged custom-format dump: ${(err as Error).message}`);
  }
}

/**
 * Moves the restored `public` schema into the portal's database as `schema`:
 * renamed on the throwaway server, dumped from there and loaded in one
 * transaction, so the portal's database holds all of it or none of it.
 */
export async function transferSchema(server: Throwaway, database: string, schema: string, portalUrl: string, pgBin?: string): Promise<void> {
  const env = { ...process.env, ...server.env(database) };
  const rename = await runProgram(server.bin('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', `ALTER SCHEMA public RENAME TO ${schema}`], { env });
  if (rename.code !== 0) throw new Error(`could not rename the restored schema: ${rename.stderr.trim()}`);
  const dump = spawn(server.bin('pg_dump'), ['--no-owner', '--no-privileges', '--schema', schema], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const load = spawn(pgBin ? `${pgBin}/psql` : 'psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-f', '-'], {
    env: { ...process.env, ...libpqEnv(portalUrl), PGCLIENTENCODING: 'UTF8' },
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  load.stdin!.on('error', () => undefined);
  dump.stdout!.pipe(load.stdin!);
  await Promise.all([finished(dump, 'pg_dump'), finished(load, 'psql (portal database)')]);
}
