import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { countToyboxRowsAt } from './snapshot';
import { compareCounts } from './drill';
import { libpqEnv, pgProgram, quoteIdent, redactUrl } from '../../db/pg-tools';
import { runProgram } from '../../system/programs';
import type { RowCounts } from './wipe-guard';
import { countMigrationRowsAt, DJANGO_BOOKKEEPING_TABLES } from '../../toybox/migration-rows';

/** Tables Django's `migrate` fills on an empty database: rows there do not mean real data. */
export const BOOKKEEPING_TABLES = new Set(DJANGO_BOOKKEEPING_TABLES);

export interface RestorePlan {
  target: string;
  mode: 'data-into-existing-schema' | 'schema-and-data';
  /** Rows that are real data: everything but bookkeeping and what TOYBOX's data migrations write. */
  rowsInTarget: number;
  tablesWithRows: string[];
  /** Rows TOYBOX's own migrations wrote (announcements, titles): the target counts as empty with only these. */
  migrationRows: Record<string, number>;
  /** What the operator should know before the steps (printed first). */
  notes: string[];
  steps: string[];
}

/** Looks at the target and says what a restore would do there, without changing anything. */
export async function planRestore(file: string, targetUrl: string, backupId: number): Promise<RestorePlan> {
  await fs.promises.access(file, fs.constants.R_OK);
  const counts = await countToyboxRowsAt(targetUrl);
  const fromMigrations = 'users' in counts ? await countMigrationRowsAt(targetUrl) : {};
  const realRows = (t: string) => (BOOKKEEPING_TABLES.has(t) ? 0 : counts[t]! - (fromMigrations[t] ?? 0));
  const tablesWithRows = Object.keys(counts).filter((t) => realRows(t) > 0);
  const rowsInTarget = tablesWithRows.reduce((sum, t) => sum + realRows(t), 0);
  const migrationRows = Object.fromEntries(Object.entries(fromMigrations).filter(([, n]) => n > 0));
  const hasSchema = 'users' in counts;
  const target = redactUrl(targetUrl);
  const notes = Object.keys(migrationRows).length
    ? [
        `the target holds ${rowsInTarget === 0 ? 'only' : 'besides other rows,'} what TOYBOX's own migrations write (${Object.entries(migrationRows)
          .map(([t, n]) => `${n} ${t}`)
          .join(', ')}, plus Django's content types and permissions)${rowsInTarget === 0 ? ': treated as empty; the backup brings its own copies' : ''}`,
      ]
    : [];
  const steps = hasSchema
    ? [
        `in one transaction: empty every table in schema public of ${target} (TRUNCATE, ${Object.keys(counts).length} tables) and load the rows of backup ${backupId} (pg_restore --data-only --schema=public | psql --single-transaction)`,
        'compare every table row count with the manifest',
      ]
    : [`create TOYBOX's tables and load backup ${backupId} into ${target} in one transaction (pg_restore --schema=public)`, 'compare every table row count with the manifest'];
  return { target, mode: hasSchema ? 'data-into-existing-schema' : 'schema-and-data', rowsInTarget, tablesWithRows, migrationRows, notes, steps };
}

/**
 * Empties TOYBOX's tables and loads the backup's rows in ONE transaction:
 * pg_restore writes the rows as SQL, psql runs TRUNCATE and that script under
 * --single-transaction with ON_ERROR_STOP, so a failure leaves the target as it was.
 */
async function restoreRowsAtomically(file: string, targetUrl: string, pgBin: string | undefined): Promise<void> {
  const tables = Object.keys(await countToyboxRowsAt(targetUrl));
  const env = { ...process.env, ...libpqEnv(targetUrl) };
  const dump = spawn(pgProgram(pgBin, 'pg_restore'), ['--data-only', '--schema=public', '--no-owner', '--no-privileges', '-f', '-', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const psql = spawn(pgProgram(pgBin, 'psql'), ['--no-password', '-X', '--quiet', '--single-transaction', '-v', 'ON_ERROR_STOP=1', '-d', env.PGDATABASE!, '-f', '-'], { env, stdio: ['pipe', 'ignore', 'pipe'] });
  let errors = '';
  dump.stderr.on('data', (c: Buffer) => (errors = (errors + c.toString()).slice(-4000)));
  psql.stderr.on('data', (c: Buffer) => (errors = (errors + c.toString()).slice(-4000)));
  psql.stdin.on('error', () => undefined); // psql stopping on the first error closes its input early
  const exited = (child: ReturnType<typeof spawn>) =>
    new Promise<number>((resolve) => {
      child.on('error', (err) => {
        errors += err.message;
        resolve(127);
      });
      child.on('close', (code) => resolve(code ?? 1));
    });
  const done = Promise.all([exited(dump), exited(psql)]);
  if (tables.length) psql.stdin.write(`TRUNCATE ${tables.map((t) => `public.${quoteIdent(t)}`).join(', ')};\n`);
  dump.stdout.pipe(psql.stdin);
  const [dumpCode, psqlCode] = await done;
  if (dumpCode !== 0 || psqlCode !== 0) throw new Error(`restore rolled back (pg_restore ${dumpCode}, psql ${psqlCode}): ${errors.trim().slice(-800)}`);
}

/**
 * Restores TOYBOX's schema `public` from a pg_dump archive. The portal's own
 * schema is left alone, so the record of backups survives the restore. When
 * `migrate` already recreated the tables (as after the incident), only the
 * rows are loaded; foreign keys are DEFERRABLE, so one transaction loads them in any order.
 */
export async function restorePostgres(file: string, targetUrl: string, pgBin: string | undefined, plan: RestorePlan, expected: RowCounts): Promise<{ mismatches: string[]; counts: RowCounts }> {
  if (plan.mode === 'data-into-existing-schema') {
    await restoreRowsAtomically(file, targetUrl, pgBin);
  } else {
    const env = libpqEnv(targetUrl);
    const args = ['--no-password', '--no-owner', '--no-privileges', '--single-transaction', '--exit-on-error', '--schema=public', '-d', env.PGDATABASE!, file];
    const r = await runProgram(pgProgram(pgBin, 'pg_restore'), args, { env });
    if (r.code !== 0) throw new Error(`pg_restore exited with ${r.code}: ${r.stderr.trim().slice(-800)}`);
  }
  const counts = await countToyboxRowsAt(targetUrl);
  return { counts, mismatches: compareCounts(expected, counts) };
}
