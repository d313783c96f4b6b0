import crypto from 'node:crypto';
import pg from 'pg';
import { countEmbeddedDump, countToyboxRowsAt } from './snapshot';
import { libpqEnv, pgProgram, quoteIdent, urlForDatabase } from '../../db/pg-tools';
import { runProgram } from '../../system/programs';
import type { RowCounts } from './wipe-guard';

export interface DrillOutcome {
  ok: boolean;
  scratch: string | null;
  actual: RowCounts | null;
  mismatches: string[];
  error: string | null;
}

/** Table-by-table differences between the manifest and what a restore produced. */
export function compareCounts(expected: RowCounts, actual: RowCounts): string[] {
  const tables = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  return tables.filter((t) => expected[t] !== actual[t]).map((t) => `${t}: expected ${expected[t] ?? 'no table'}, restored ${actual[t] ?? 'no table'}`);
}

/**
 * The maintenance database to run CREATE/DROP DATABASE from: `postgres` on the
 * same server, with the same credentials (template1 if that is refused).
 */
async function connectAdmin(databaseUrl: string): Promise<pg.Client> {
  let lastError: unknown;
  for (const name of ['postgres', 'template1']) {
    const client = new pg.Client({ connectionString: urlForDatabase(databaseUrl, name) });
    try {
      await client.connect();
      return client;
    } catch (err) {
      lastError = err;
      await client.end().catch(() => undefined);
    }
  }
  throw lastError;
}

const SCRATCH_PREFIX = 'portal_drill_';
const STALE_SCRATCH_MS = 6 * 3600_000;

/**
 * Drops scratch databases a killed drill left behind. Their names carry their
 * creation time, so only those older than any drill could run are touched.
 */
async function dropStaleScratch(admin: pg.Client, now = Date.now()): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [SCRATCH_PREFIX]);
  for (const { datname } of rows) {
    const created = parseInt(datname.slice(SCRATCH_PREFIX.length).split('_')[0] ?? '', 36);
    if (Number.isFinite(created) && now - created > STALE_SCRATCH_MS) {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`).catch(() => undefined);
    }
  }
}

/** A new scratch database name; its creation time is in it (see dropStaleScratch). */
export function scratchName(): string {
  return `${SCRATCH_PREFIX}${Date.now().toString(36)}_${crypto.randomBytes(3).toString('hex')}`;
}

/**
 * Scratch databases of drills running in this process, registered before
 * CREATE DATABASE is sent: what an interrupted process must drop on its way
 * out (a finally block does not run when SIGINT ends the process).
 */
const activeScratch = new Map<string, string>();

/** Drops every scratch database this process's drills hold now (for SIGINT/SIGTERM handlers); returns their names. */
export async function dropActiveScratch(): Promise<string[]> {
  const dropped: string[] = [];
  for (const [scratch, databaseUrl] of [...activeScratch]) {
    const admin = await connectAdmin(databaseUrl);
    try {
      // FORCE ends pg_restore's session, so the drop cannot wait on it.
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(scratch)} WITH (FORCE)`);
      activeScratch.delete(scratch);
      dropped.push(scratch);
    } finally {
      await admin.end().catch(() => undefined);
    }
  }
  return dropped;
}

/**
 * Restores a pg_dump archive into a scratch database on the same server,
 * counts TOYBOX's rows there, and always drops the scratch database.
 */
export async function drillPostgres(databaseUrl: string, pgBin: string | undefined, file: string, expected: RowCounts, scratch = scratchName()): Promise<DrillOutcome> {
  const admin = await connectAdmin(databaseUrl);
  let created = false;
  try {
    await dropStaleScratch(admin);
    activeScratch.set(scratch, databaseUrl);
    await admin.query(`CREATE DATABASE ${quoteIdent(scratch)}`);
    created = true;
    const scratchUrl = urlForDatabase(databaseUrl, scratch);
    const r = await runProgram(
      pgProgram(pgBin, 'pg_restore'),
      ['--no-password', '--no-owner', '--no-privileges', '--exit-on-error', '-d', scratch, file],
      { env: libpqEnv(scratchUrl) },
    );
    if (r.code !== 0) return { ok: false, scratch, actual: null, mismatches: [], error: `pg_restore exited with ${r.code}: ${r.stderr.trim().slice(-500)}` };
    const actual = await countToyboxRowsAt(scratchUrl);
    const mismatches = compareCounts(expected, actual);
    return { ok: mismatches.length === 0, scratch, actual, mismatches, error: null };
  } catch (err) {
    return { ok: false, scratch: created ? scratch : null, actual: null, mismatches: [], error: (err as Error).message };
  } finally {
    if (created) await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(scratch)} WITH (FORCE)`).catch(() => undefined);
    activeScratch.delete(scratch);
    await admin.end().catch(() => undefined);
  }
}

/** Embedded mode: load the data-directory dump into a fresh in-memory PGlite and count. */
export async function drillEmbedded(file: string, expected: RowCounts): Promise<DrillOutcome> {
  try {
    const actual = await countEmbeddedDump(file);
    const mismatches = compareCounts(expected, actual);
    return { ok: mismatches.length === 0, scratch: 'pglite (memory)', actual, mismatches, error: null };
  } catch (err) {
    return { ok: false, scratch: 'pglite (memory)', actual: null, mismatches: [], error: (err as Error).message };
  }
}
