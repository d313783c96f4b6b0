/**
 * Export speed and memory against real PostgreSQL.
 *
 *   npx tsx bench/export.ts            (POSTS=100000 CARDS=10000 by default)
 *
 * Creates a scratch database with TOYBOX's schema and one user holding POSTS
 * posts and CARDS cards (plus a little of everything else), then:
 *  - baseline: `COPY (same query) TO STDOUT` of exactly the rows data.json
 *    holds, read and discarded, in this process;
 *  - the ZIP and the JSON export, each in a child process writing to a file,
 *    which reports its own time, time to first byte and peak RSS.
 * Goals (issue 6): at least 0.3 of COPY's rows/s, peak RSS under 150 MB.
 * Since issue 11 the ZIP is signed and rows carry global ids (both measured
 * here), and the verifier is timed on the archive it produced.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn, execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { toyboxSchemaSql } from '../src/toybox/schema';
import { PERSONAL_DATA, jsonLinesCopySql } from '../src/toybox/personal-data';
import { writeZipExport, writeJsonExport, type ExportFormat } from '../src/features/export/archive';
import { loadSigningKey } from '../src/auth/archive-signing';

const POSTS = Number(process.env.POSTS ?? 100_000);
const CARDS = Number(process.env.CARDS ?? 10_000);
/** MEDIA=1: every post names an image and an image URL (files absent: the worst case for the media index). */
const MEDIA = process.env.MEDIA === '1';
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface ChildResult {
  format: ExportFormat;
  rows: number;
  seconds: number;
  firstByteMs: number;
  bytes: number;
  maxRssMb: number;
}

function dbUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function seed(url: string): Promise<number> {
  return withClient(url, async (c) => {
    await c.query(toyboxSchemaSql());
    const user = await c.query<{ id: string }>(
      `INSERT INTO users (password, email, display_id, role, avatar_url, is_suspended, warning_count, is_active, is_staff, is_superuser, created_at, updated_at)
       VALUES ('!', 'bench@example.com', 'bench_user', 'FREE_USER', NULL, false, 0, true, false, false, now(), now()) RETURNING id`,
    );
    const id = Number(user.rows[0]!.id);
    await c.query(
      `INSERT INTO user_meta (user_id, bio, display_name, lottery_bonus_count, notifications, onboarding_completed, earned_titles, created_at, updated_at)
       VALUES ($1, 'ベンチマーク用のユーザーです', 'ベンチ', 0, '[]', '{}', '[]', now(), now())`,
      [id],
    );
    await c.query(
      `INSERT INTO submissions (author_id, title, caption, comment_enabled, status, aim, steps, frame_type, jp_result, likes_count,
         hashtags, spell, ai_tool, created_at, updated_at, image, image_url)
       SELECT $1, left('投稿 ' || g, 20), 'キャプション "' || g || '", テキスト, with some length to look like a real post body ' || md5(g::text),
         true, 'published', '', '[]', 'none', '', g % 50, '["art","テスト"]', 'a prompt ' || g, 'tool', now() - g * interval '1 minute',
         now() - g * interval '1 minute', CASE WHEN $3 THEN 'submissions/' || g || '.jpg' END,
         CASE WHEN $3 THEN 'https://toybox.example/uploads/submissions/' || g || '_x.png' END
       FROM generate_series(1, $2) g`,
      [id, POSTS, MEDIA],
    );
    await c.query(
      `INSERT INTO cards (code, name, rarity, description, created_at, updated_at, attribute, atk_points, def_points, card_type)
       SELECT 'BENCH-' || g, 'カード ' || g, (ARRAY['N','R','SR','UR'])[1 + g % 4], 'desc ' || g, now(), now(), 'fire', g, g, 'monster'
       FROM generate_series(1, 200) g`,
    );
    await c.query(
      `INSERT INTO user_cards (user_id, card_id, obtained_at)
       SELECT $1, (SELECT min(id) FROM cards) + g % 200, now() - g * interval '1 minute' FROM generate_series(1, $2) g`,
      [id, CARDS],
    );
    await c.query(`INSERT INTO user_points (user_id, total_points, migration_bonus_granted, created_at, updated_at) VALUES ($1, 100, false, now(), now())`, [id]);
    await c.query(
      `INSERT INTO point_history (user_id, action_type, points, description, created_at) SELECT $1, 'post', 1, 'post ' || g, now() FROM generate_series(1, 100) g`,
      [id],
    );
    await c.query('ANALYZE');
    return id;
  });
}

/** The baseline: PostgreSQL's own COPY of the same rows, read and thrown away. */
async function copyBaseline(url: string, userId: number): Promise<{ rows: number; seconds: number; bytes: number }> {
  return withClient(url, async (c) => {
    const start = process.hrtime.bigint();
    let rows = 0;
    let bytes = 0;
    for (const k of PERSONAL_DATA) {
      const stream = c.query(copyTo(jsonLinesCopySql(k, userId)));
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows += 1;
      }
    }
    return { rows, bytes, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
  });
}

async function child(format: ExportFormat, url: string, userId: number, out: string): Promise<void> {
  const start = process.hrtime.bigint();
  let firstByteMs = -1;
  let bytes = 0;
  const file = fs.createWriteStream(out);
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (firstByteMs < 0) firstByteMs = Number(process.hrtime.bigint() - start) / 1e6;
      bytes += chunk.length;
      if (file.write(chunk)) cb();
      else file.once('drain', () => cb());
    },
    final(cb) {
      file.end(() => cb());
    },
  });
  const settings = {
    databaseUrl: url,
    tmpDir: path.dirname(out),
    embedded: false,
    lang: 'ja' as const,
    mediaDir: MEDIA ? path.dirname(out) : undefined,
    compressionLevel: process.env.ZIP_LEVEL === undefined ? undefined : Number(process.env.ZIP_LEVEL),
    toyboxHost: 'toybox.example',
    // a throwaway key in the bench's scratch directory: signing is part of what is measured
    signer: { site: 'https://portal.toybox.example', key: await loadSigningKey({ DATA_DIR: path.dirname(out) }) },
  };
  const subject = { id: userId, display_id: 'bench_user' };
  const result = format === 'zip' ? await writeZipExport(subject, settings, sink) : await writeJsonExport(subject, settings, sink);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const res: ChildResult = { format, rows: result.rows, seconds, firstByteMs, bytes, maxRssMb: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(`${JSON.stringify(res)}\n`);
}

function runChild(format: ExportFormat, url: string, userId: number, out: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, __filename, '--child', format, url, String(userId), out], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult) : reject(new Error(`child exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const name = `portal_bench_export_${crypto.randomBytes(3).toString('hex')}`;
  await withClient(ADMIN_URL, (c) => c.query(`CREATE DATABASE "${name}"`));
  const url = dbUrl(name);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-export-'));
  try {
    const t0 = Date.now();
    const userId = await seed(url);
    console.log(`seeded ${POSTS} posts and ${CARDS} cards in ${((Date.now() - t0) / 1000).toFixed(1)} s (scratch database ${name})`);
    await copyBaseline(url, userId); // warm the cache so both sides read from memory
    const copy = await copyBaseline(url, userId);
    const copyRate = copy.rows / copy.seconds;
    const zip = await runChild('zip', url, userId, path.join(dir, 'export.zip'));
    const json = await runChild('json', url, userId, path.join(dir, 'export.json'));
    const unzip = execFileSync('unzip', ['-tq', path.join(dir, 'export.zip')], { encoding: 'utf8' }).trim();
    // the verifier on the same archive (signature, every file's SHA-256, every row), in this process
    // imported here, not at the top: the export children re-run this file and must not carry the verifier's modules
    const { verifyArchive } = await import('../src/archive/verify');
    const vStart = process.hrtime.bigint();
    const verified = await verifyArchive(path.join(dir, 'export.zip'), {
      keys: [await loadSigningKey({ DATA_DIR: dir })],
      site: 'https://portal.toybox.example',
      toyboxHost: 'toybox.example',
    });
    const vSeconds = Number(process.hrtime.bigint() - vStart) / 1e9;

    const line = (label: string, rows: number, seconds: number, extra: string) =>
      console.log(`${label.padEnd(34)} ${String(rows).padStart(8)} rows ${seconds.toFixed(3).padStart(7)} s ${Math.round(rows / seconds).toLocaleString('en').padStart(10)} rows/s  ${extra}`);
    console.log('');
    line('COPY (same queries) TO STDOUT', copy.rows, copy.seconds, `${(copy.bytes / 1e6).toFixed(1)} MB (baseline)`);
    for (const r of [zip, json]) {
      const ratio = r.rows / r.seconds / copyRate;
      line(`export ${r.format.toUpperCase()} (child process)`, r.rows, r.seconds,
        `${(r.bytes / 1e6).toFixed(1)} MB, first byte ${r.firstByteMs.toFixed(0)} ms, peak RSS ${r.maxRssMb.toFixed(0)} MB, ${ratio.toFixed(2)}x COPY`);
    }
    console.log(`unzip -tq: ${unzip}`);
    console.log(`verify ZIP (in process): ${verified.valid ? 'valid' : `INVALID ${JSON.stringify(verified.problems.slice(0, 3))}`}, ${vSeconds.toFixed(3)} s, ${Math.round(zip.rows / vSeconds).toLocaleString('en')} rows/s`);
    console.log('');
    const checks = [
      ['ZIP rows/s >= 0.3 x COPY', zip.rows / zip.seconds >= 0.3 * copyRate],
      ['JSON rows/s >= 0.3 x COPY', json.rows / json.seconds >= 0.3 * copyRate],
      ['ZIP peak RSS < 150 MB', zip.maxRssMb < 150],
      ['JSON peak RSS < 150 MB', json.maxRssMb < 150],
      ['first byte < 1 s (both)', zip.firstByteMs < 1000 && json.firstByteMs < 1000],
      ['all rows exported', zip.rows === copy.rows && json.rows === copy.rows],
      ['the ZIP verifies (signature, hashes, rows)', verified.valid],
    ] as const;
    for (const [label, ok] of checks) console.log(`${ok ? 'PASS' : 'FAIL'}  ${label}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    await withClient(ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  }
}

if (process.argv[2] === '--child') {
  child(process.argv[3] as ExportFormat, process.argv[4]!, Number(process.argv[5]), process.argv[6]!).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
