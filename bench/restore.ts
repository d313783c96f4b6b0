/**
 * Restore speed and memory against real PostgreSQL and real files.
 *
 *   npx tsx bench/restore.ts            (POSTS=10000 CARDS=5000 by default)
 *
 * Builds a scratch database with TOYBOX's schema and the portal's tables, an
 * old uploads tree with POSTS post files (each with a thumbnail), a catalogue
 * of them, and an old database holding CARDS cards for old user 77, then:
 *  - baseline: the same work done bare in this process: the same files copied
 *    with fs.copyFile and the same number of rows inserted with one
 *    INSERT ... SELECT generate_series per table, in one transaction;
 *  - the restore (src/features/claims/restore.ts) in a child process, in one
 *    transaction, reporting its own time and peak RSS. The child runs the
 *    compiled build (tsc into dist-bench/, removed afterwards) with plain node,
 *    as the Docker image does: tsx alone holds ~150 MB before any work.
 * Goals (issue 11): under 30 s, peak RSS under 200 MB; the ratio to the
 * baseline says how much the bookkeeping (provenance, undo records) costs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync, execFileSync } from 'node:child_process';
import pg from 'pg';
import { parseConfig, withSessionSecret } from '../src/config';
import { buildContext } from '../src/open-context';

const POSTS = Number(process.env.POSTS ?? 10_000);
const CARDS = Number(process.env.CARDS ?? 5_000);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const OLD_TS = 1767225600;
const OLD_UID = 77;

function dbUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function sql(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(text, params);
  } finally {
    await c.end();
  }
}

function env(url: string, work: string): Record<string, string> {
  return { NODE_ENV: 'test', DATABASE_URL: url, DATA_DIR: path.join(work, 'data'), LOG_LEVEL: 'silent', TOYBOX_MEDIA_DIR: path.join(work, 'live'), TOYBOX_URL: 'https://toybox.example' };
}

async function seed(url: string, work: string): Promise<{ userId: number; claimId: number }> {
  const { toyboxSchemaSql } = await import('../src/toybox/schema');
  await sql(url, toyboxSchemaSql());
  const ctx = await buildContext(withSessionSecret(parseConfig(env(url, work))));
  const knex = ctx.knex;
  try {
    const tree = path.join(work, 'old-uploads');
    fs.mkdirSync(path.join(tree, 'submissions'), { recursive: true });
    fs.mkdirSync(path.join(work, 'live'), { recursive: true });
    const files: Array<{ rel: string; sha: string; size: number; kind: string; stem: string | null; orig: string | null; ts: number }> = [];
    for (let i = 0; i < POSTS; i++) {
      const ts = OLD_TS + i;
      for (const [suffix, kind] of [['.png', 'post_image'], ['_thumb.jpg', 'thumbnail']] as const) {
        const bytes = crypto.randomBytes(kind === 'thumbnail' ? 512 : 2048);
        const rel = `submissions/${OLD_UID}_${ts}${suffix}`;
        fs.writeFileSync(path.join(tree, rel), bytes);
        const stem = `submissions/${OLD_UID}_${ts}`;
        files.push({ rel, sha: crypto.createHash('sha256').update(bytes).digest('hex'), size: bytes.length, kind, stem: kind === 'post_image' ? stem : null, orig: kind === 'thumbnail' ? `${stem}.png` : null, ts });
      }
    }
    const [src] = await knex('portal.salvage_sources').insert({ kind: 'media', locator: tree, fingerprint: tree, status: 'complete' }).returning('id');
    for (let i = 0; i < files.length; i += 2000) {
      const batch = files.slice(i, i + 2000);
      await knex('portal.salvage_blobs').insert(batch.map((f) => ({ sha256: f.sha, size: f.size })));
      await knex('portal.salvage_files').insert(
        batch.map((f) => ({ source_id: src.id, rel_path: f.rel, size: f.size, mtime_ms: 0, sha256: f.sha, kind: f.kind, era: 'old', era_basis: 'name', old_user_id: OLD_UID, uploaded_at: new Date(f.ts * 1000), stem: f.stem, original_stem: f.orig ? f.stem ?? f.orig.replace('.png', '') : null, original_path: f.orig })),
      );
    }
    const [db] = await knex('portal.salvage_sources').insert({ kind: 'database', locator: 'bench.dump', fingerprint: 'bench', status: 'complete' }).returning('id');
    const schema = `salvage_${Number(db.id)}`;
    await knex('portal.salvage_sources').where({ id: db.id }).update({ schema_name: schema });
    await knex.raw(`CREATE SCHEMA ${schema}`);
    for (const t of ['users', 'user_meta', 'submissions', 'cards', 'user_cards']) await knex.raw(`CREATE TABLE ${schema}.${t} (LIKE public.${t} INCLUDING DEFAULTS INCLUDING IDENTITY)`);
    await knex.raw(`INSERT INTO ${schema}.cards (id, code, name, rarity, created_at, updated_at) SELECT g, 'C' || lpad(g::text, 3, '0'), 'card ' || g, 'N', now(), now() FROM generate_series(1, 50) g`);
    await knex.raw(`INSERT INTO public.cards (code, name, rarity, created_at, updated_at) SELECT 'C' || lpad(g::text, 3, '0'), 'card ' || g, 'N', now(), now() FROM generate_series(1, 50) g`);
    await knex.raw(`INSERT INTO ${schema}.user_cards (id, user_id, card_id, obtained_at) SELECT g, ?, 1 + g % 50, to_timestamp(? + g) FROM generate_series(1, ?) g`, [OLD_UID, OLD_TS, CARDS]);
    const [user] = await knex('public.users')
      .insert({ email: null, display_id: 'bench_user', password: '!', role: 'FREE_USER', is_suspended: false, warning_count: 0, is_active: true, is_staff: false, is_superuser: false, created_at: knex.fn.now(), updated_at: knex.fn.now() })
      .returning('id');
    const [claim] = await knex('portal.claims').insert({ user_id: user.id, old_user_id: OLD_UID, status: 'approved', level: 3, decided_by: 'auto' }).returning('id');
    return { userId: Number(user.id), claimId: Number(claim.id) };
  } finally {
    await ctx.close();
  }
}

async function baseline(url: string, work: string, userId: number): Promise<number> {
  const started = process.hrtime.bigint();
  const tree = path.join(work, 'old-uploads', 'submissions');
  const out = path.join(work, 'baseline-copy');
  fs.mkdirSync(out, { recursive: true });
  for (const name of fs.readdirSync(tree)) await fs.promises.copyFile(path.join(tree, name), path.join(out, name), fs.constants.COPYFILE_EXCL);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('BEGIN');
  await c.query(
    `INSERT INTO public.submissions (author_id, caption, comment_enabled, status, aim, steps, frame_type, image_url, jp_result, likes_count, old_id, created_at, updated_at, hashtags, title, spell, ai_tool)
     SELECT $1, '', true, 'PRIVATE', '', '[]', 'none', 'https://x/' || g, 'none', 0, 'baseline:' || g, now(), now(), '[]', '', '', '' FROM generate_series(1, $2) g`,
    [userId, POSTS],
  );
  await c.query(`INSERT INTO public.user_cards (user_id, card_id, obtained_at, old_id) SELECT $1, (SELECT min(id) FROM public.cards), now(), 'baseline:' || g FROM generate_series(1, $2) g`, [userId, CARDS]);
  await c.query('ROLLBACK');
  await c.end();
  fs.rmSync(out, { recursive: true, force: true });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** The child: compiled code under plain node, one restore of everything, timed, with its peak RSS. */
const CHILD_JS = `
const { parseConfig, withSessionSecret } = require('./src/config');
const { buildContext } = require('./src/context');
const { restore } = require('./src/features/claims/restore');
(async () => {
  const e = JSON.parse(process.env.BENCH_ENV);
  const ctx = await buildContext(withSessionSecret(parseConfig(e)), { migrate: false });
  const userId = Number(process.env.BENCH_USER);
  const started = process.hrtime.bigint();
  const result = await restore(ctx, { id: userId, display_id: 'bench_user', actor: 'bench' }, Number(process.env.BENCH_CLAIM), { posts: 'all', cards: 'all', avatar: null, header: null, display_name: false, bio: false });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await ctx.close();
  process.stdout.write(JSON.stringify({ seconds, posts: result.posts, cards: result.cards, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
})().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
`;

/** Compiles the portal into dist-bench/ with views, locales and fixtures beside it (as in the Docker image). */
function build(root: string): string {
  const out = path.join(root, 'dist-bench');
  fs.rmSync(out, { recursive: true, force: true });
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit' });
  for (const d of ['views', 'locales', 'public']) fs.symlinkSync(path.join(root, d), path.join(out, d));
  fs.cpSync(path.join(root, 'src', 'toybox', 'fixtures'), path.join(out, 'src', 'toybox', 'fixtures'), { recursive: true });
  fs.writeFileSync(path.join(out, 'bench-child.js'), CHILD_JS);
  return out;
}

async function main(): Promise<void> {
  const name = `bench_restore_${crypto.randomBytes(4).toString('hex')}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-restore-'));
  await sql(ADMIN_URL, `CREATE DATABASE "${name}"`);
  const url = dbUrl(name);
  try {
    process.stdout.write(`seeding ${POSTS} posts (+${POSTS} thumbnails) and ${CARDS} cards...\n`);
    const { userId, claimId } = await seed(url, work);
    const base = await baseline(url, work, userId);
    process.stdout.write('compiling the portal (tsc) for the child...\n');
    const dist = build(path.resolve(__dirname, '..'));
    const r = spawnSync(process.execPath, [path.join(dist, 'bench-child.js')], {
      env: { ...process.env, BENCH_ENV: JSON.stringify(env(url, work)), BENCH_USER: String(userId), BENCH_CLAIM: String(claimId) },
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`restore child failed: ${r.stderr}`);
    const res = JSON.parse(r.stdout) as { seconds: number; posts: number; cards: number; maxRssMb: number };
    const rows = await sql(url, 'SELECT (SELECT count(*) FROM public.submissions WHERE author_id = $1)::int AS posts, (SELECT count(*) FROM public.user_cards WHERE user_id = $1)::int AS cards, (SELECT count(*) FROM portal.restore_writes)::int AS writes', [userId]);
    const copied = fs.readdirSync(path.join(work, 'live', 'submissions')).length;
    process.stdout.write(
      [
        `baseline (bare copy of ${POSTS * 2} files + INSERT ... SELECT of ${POSTS + CARDS} rows): ${base.toFixed(2)} s`,
        `restore: ${res.posts} posts, ${res.cards} cards, ${copied} files, ${rows.rows[0].writes} undo records in ${res.seconds.toFixed(2)} s (one transaction), peak RSS ${res.maxRssMb.toFixed(0)} MB`,
        `ratio restore/baseline: ${(res.seconds / base).toFixed(2)}`,
        `rows in TOYBOX after restore: ${rows.rows[0].posts} posts, ${rows.rows[0].cards} cards`,
        `goals: < 30 s ${res.seconds < 30 ? 'met' : 'MISSED'}, peak RSS < 200 MB ${res.maxRssMb < 200 ? 'met' : 'MISSED'}`,
      ].join('\n') + '\n',
    );
  } finally {
    await sql(ADMIN_URL, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(path.resolve(__dirname, '..', 'dist-bench'), { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
