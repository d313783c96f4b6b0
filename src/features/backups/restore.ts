import fs from 'node:fs';
import pg from 'pg';
import { countToyboxRows, pgClientQuery } from './snapshot';
import { compareCounts } from './drill';
import { libpqEnv, pgProgram, quoteIdent, redactUrl, runProgram } from './tools';
import type { RowCounts } from './wipe-guard';

/** Tables Django's `migrate` fills on an empty database: rows there do not mean real data. */
export const BOOKKEEPING_TABLES = new Set(['django_migrations', 'django_content_type', 'auth_permission']);

export interface RestorePlan {
  target: string;
  mode: 'data-into-existing-schema' | 'schema-and-data';
  rowsInTarget: number;
  tablesWithRows: string[];
  steps: string[];
}

/** Looks at the target and says what a restore would do there, without changing anything. */
export async function planRestore(file: string, targetUrl: string, backupId: number): Promise<RestorePlan> {
  await fs.promises.access(file, fs.constants.R_OK);
  const client = new pg.Client({ connectionString: targetUrl });
  await client.connect();
  let counts: RowCounts;
  try {
    counts = await countToyboxRows(pgClientQuery(client));
  } finally {
    await client.end();
  }
  const tablesWithRows = Object.entries(counts).filter(([t, n]) => n > 0 && !BOOKKEEPING_TABLES.has(t)).map(([t]) => t);
  const rowsInTarget = tablesWithRows.reduce((sum, t) => sum + counts[t]!, 0);
  const hasSchema = 'users' in counts;
  const target = redactUrl(targetUrl);
  const steps = hasSchema
    ? [
        `empty every table in schema public of ${target} (TRUNCATE, ${Object.keys(counts).length} tables)`,
        `load the rows of backup ${backupId} into them in one transaction (pg_restore --data-only --schema=public)`,
        'compare every table row count with the manifest',
      ]
    : [`create TOYBOX's tables and load backup ${backupId} into ${target} in one transaction (pg_restore --schema=public)`, 'compare every table row count with the manifest'];
  return { target, mode: hasSchema ? 'data-into-existing-schema' : 'schema-and-data', rowsInTarget, tablesWithRows, steps };
}

/**
 * Restores TOYBOX's schema `public` from a pg_dump archive. The portal's own
 * schema is left alone, so the record of backups survives the restore. When
 * `migrate` already recreated the tables (as after the incident), only the
 * rows are loaded; foreign keys are DEFERRABLE, so one transaction loads them in any order.
 */
export async function restorePostgres(file: string, targetUrl: string, pgBin: string | undefined, plan: RestorePlan, expected: RowCounts): Promise<{ mismatches: string[]; counts: RowCounts }> {
  const args = ['--no-password', '--no-owner', '--no-privileges', '--single-transaction', '--exit-on-error', '--schema=public'];
  if (plan.mode === 'data-into-existing-schema') {
    const client = new pg.Client({ connectionString: targetUrl });
    await client.connect();
    try {
      const tables = Object.keys(await countToyboxRows(pgClientQuery(client)));
      if (tables.length) await client.query(`TRUNCATE ${tables.map((t) => `public.${quoteIdent(t)}`).join(', ')}`);
    } finally {
      await client.end();
    }
    args.push('--data-only');
  }
  const env = libpqEnv(targetUrl);
  const r = await runProgram(pgProgram(pgBin, 'pg_restore'), [...args, '-d', env.PGDATABASE!, file], { env });
  if (r.code !== 0) throw new Error(`pg_restore exited with ${r.code}: ${r.stderr.trim().slice(-800)}`);
  const client = new pg.Client({ connectionString: targetUrl });
  await client.connect();
  try {
    const counts = await countToyboxRows(pgClientQuery(client));
    return { counts, mismatches: compareCounts(expected, counts) };
  } finally {
    await client.end();
  }
}
