import fs from 'node:fs';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { writeFileAtomic } from '../../files/atomic-write';
import { libpqEnv, pgProgram, quoteIdent } from '../../db/pg-tools';
import { runProgram } from '../../system/programs';
import type { RowCounts } from './wipe-guard';

type Query = (sql: string) => Promise<Array<Record<string, unknown>>>;

/** Row counts of every table in schema public (TOYBOX's), in whatever snapshot `query` sees. */
export async function countToyboxRows(query: Query): Promise<RowCounts> {
  const tables = await query(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1`,
  );
  if (!tables.length) return {};
  const union = tables
    .map((t) => String(t.name))
    .map((name) => `SELECT ${pgLiteral(name)} AS name, count(*)::bigint AS n FROM public.${quoteIdent(name)}`)
    .join(' UNION ALL ');
  const rows = await query(union);
  return Object.fromEntries(rows.map((r) => [String(r.name), Number(r.n)]));
}

function pgLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export function pgClientQuery(client: pg.Client): Query {
  return async (sql) => (await client.query(sql)).rows as Array<Record<string, unknown>>;
}

/** Row counts of TOYBOX's tables in the database at `url`, on a connection of its own. */
export async function countToyboxRowsAt(url: string): Promise<RowCounts> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await countToyboxRows(pgClientQuery(client));
  } finally {
    await client.end();
  }
}

export interface DumpResult {
  rowCounts: RowCounts;
  serverVersion: string;
}

/**
 * pg_dump -Fc of the whole database. The row counts come from a REPEATABLE
 * READ transaction whose snapshot pg_dump is told to use, so the counts
 * describe exactly the rows in the file.
 */
export async function dumpPostgres(databaseUrl: string, pgBin: string | undefined, file: string): Promise<DumpResult> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshot = (await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]!.id;
    const rowCounts = await countToyboxRows(pgClientQuery(client));
    const serverVersion = (await client.query<{ v: string }>('SHOW server_version')).rows[0]!.v;
    const r = await runProgram(pgProgram(pgBin, 'pg_dump'), ['-Fc', '--no-password', `--snapshot=${snapshot}`, '-f', file], {
      env: libpqEnv(databaseUrl),
    });
    if (r.code !== 0) throw new Error(`pg_dump exited with ${r.code}: ${r.stderr.trim().slice(-500)}`);
    await client.query('COMMIT');
    return { rowCounts, serverVersion };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Embedded mode: PGlite's own data-directory dump (a gzipped tarball). The
 * counts are read from that very file loaded into a throwaway in-memory
 * PGlite, which is the only view guaranteed to match it.
 */
export async function dumpEmbedded(db: PGlite, file: string): Promise<DumpResult> {
  const blob = await db.dumpDataDir('gzip');
  await writeFileAtomic(file, Buffer.from(await blob.arrayBuffer()));
  const rowCounts = await countEmbeddedDump(file);
  const serverVersion = String((await db.query<{ v: string }>('SHOW server_version')).rows[0]?.v ?? 'pglite');
  return { rowCounts, serverVersion };
}

/** Loads a PGlite data-directory dump into memory and counts TOYBOX's rows; throws when it does not load. */
export async function countEmbeddedDump(file: string): Promise<RowCounts> {
  const data = await fs.promises.readFile(file);
  const scratch = await PGlite.create({ loadDataDir: new Blob([data]) });
  try {
    return await countToyboxRows(async (sql) => (await scratch.query<Record<string, unknown>>(sql)).rows);
  } finally {
    await scratch.close();
  }
}
