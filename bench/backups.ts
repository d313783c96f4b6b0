/**
 * Backup cost: the portal's full database backup (pg_dump -Fc in an exported
 * snapshot with per-table counts, SHA-256, manifest, restore drill into a
 * scratch database) against a bare `pg_dump -Fc` of the same database, and the
 * portal's atomic restore into wiped tables (TRUNCATE + rows through
 * psql --single-transaction) against a bare `pg_restore --data-only` into an
 * already empty copy. Both baselines are measured in the same run.
 *
 *   npx tsx bench/backups.ts [--users 20000] [--submissions 100000]
 *
 * Needs PostgreSQL (TEST_DATABASE_URL): scratch databases are created and dropped.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig, withSessionSecret } from '../src/config';
import { buildContext } from '../src/open-context';
import { logger } from '../src/logger';
import { createTestDatabase } from '../test/support/database';
import { runDatabaseBackup } from '../src/features/backups/run';
import { performRestore, prepareRestore } from '../src/features/backups/service';
import { libpqEnv } from '../src/db/pg-tools';
import { runProgram } from '../src/system/programs';
import { sha256File } from '../src/files/sha256';
import { dumpPostgres } from '../src/features/backups/snapshot';

const { values } = parseArgs({ options: { users: { type: 'string', default: '20000' }, submissions: { type: 'string', default: '100000' } } });
const USERS = Number(values.users);
const SUBMISSIONS = Number(values.submissions);

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [r, Number(process.hrtime.bigint() - t) / 1e9];
}

async function main(): Promise<void> {
  logger.level = 'warn';
  const db = await createTestDatabase();
  const empty = await createTestDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-backups-'));
  const config = withSessionSecret(parseConfig({ NODE_ENV: 'test', DATABASE_URL: db.url, DATA_DIR: dataDir, LOG_LEVEL: 'warn' }));
  const ctx = await buildContext(config);
  try {
    await ctx.knex.raw(`
      INSERT INTO public.users (password, email, display_id, role, is_suspended, warning_count, is_active, is_staff, is_superuser, created_at, updated_at)
      SELECT 'pbkdf2_sha256$1000$salt$hash', 'bench' || g || '@example.com', 'bench_' || g, 'FREE_USER', false, 0, true, false, false, now(), now()
      FROM generate_series(1, ?) g`, [USERS]);
    await ctx.knex.raw(`
      INSERT INTO public.submissions (author_id, title, caption, comment_enabled, status, aim, steps, frame_type, jp_result, likes_count, hashtags, spell, ai_tool, created_at, updated_at)
      SELECT (SELECT min(id) FROM public.users) + (g % ?), 'post ' || g, repeat('キャプション ', 8), true, 'published', '', '[]', 'none', '', 0, '["AI"]', '', '', now(), now()
      FROM generate_series(1, ?) g`, [USERS, SUBMISSIONS]);
    const size = (await ctx.knex.raw<{ rows: Array<{ s: string }> }>('SELECT pg_size_pretty(pg_database_size(current_database())) AS s')).rows[0]!.s;
    console.log(`data set: ${USERS} users, ${SUBMISSIONS} submissions, database ${size}`);

    const plainFile = path.join(dataDir, 'plain.dump');
    const [, plainDump] = await timed(() => runProgram('pg_dump', ['-Fc', '-f', plainFile], { env: libpqEnv(db.url) }));
    const snapFile = path.join(dataDir, 'snapshot.dump');
    const [, portalDump] = await timed(async () => {
      await dumpPostgres(db.url, undefined, snapFile);
      return sha256File(snapFile);
    });
    const [backup, portalBackup] = await timed(() => runDatabaseBackup(ctx, { trigger: 'bench' }));
    if (backup?.status !== 'good') throw new Error(`backup ended ${backup?.status}: ${backup?.error}`);
    console.log(`bare pg_dump -Fc:                       ${plainDump.toFixed(2)} s`);
    console.log(`portal dump (snapshot counts+SHA-256):  ${portalDump.toFixed(2)} s  (x${(portalDump / plainDump).toFixed(2)} the bare dump)`);
    console.log(`portal backup (dump+counts+hash+drill): ${portalBackup.toFixed(2)} s  (x${(portalBackup / plainDump).toFixed(2)} the bare dump; the drill is a full restore)`);

    // Baseline: rows into an already empty copy of the schema.
    const schemaOnly = await runProgram('pg_restore', ['--schema-only', '--schema=public', '--no-owner', '--no-privileges', '-d', libpqEnv(empty.url).PGDATABASE!, plainFile], { env: libpqEnv(empty.url) });
    if (schemaOnly.code !== 0 && !/already exists/.test(schemaOnly.stderr)) throw new Error(schemaOnly.stderr);
    const [, plainRestore] = await timed(() => runProgram('pg_restore', ['--data-only', '--schema=public', '--single-transaction', '-d', libpqEnv(empty.url).PGDATABASE!, plainFile], { env: libpqEnv(empty.url) }));

    await ctx.knex.raw('TRUNCATE public.submissions, public.user_meta, public.users CASCADE');
    const prepared = await prepareRestore(ctx, backup.id, { url: db.url }, false);
    const [result, portalRestore] = await timed(() => performRestore(ctx, prepared.backup, prepared.plan, { url: db.url }));
    if (result.mismatches.length) throw new Error(result.mismatches.join('; '));
    console.log(`bare pg_restore --data-only:            ${plainRestore.toFixed(2)} s`);
    console.log(`portal restore (TRUNCATE+rows, 1 tx):   ${portalRestore.toFixed(2)} s  (x${(portalRestore / plainRestore).toFixed(2)}; every count checked: users=${result.counts.users}, submissions=${result.counts.submissions})`);
  } finally {
    await ctx.close();
    await db.drop();
    await empty.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
