import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import iconv from 'iconv-lite';
import type { Knex } from 'knex';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { tempDir } from '../support/portal';
import { createKnex } from '../../src/db';
import { buildUser } from '../support/factories';
import { fingerprintTree, makeOldUploadsTree } from '../support/salvage-fixtures';
import { fillOldToybox, makeToyboxDataDir, OLD_COUNTS, pgDump, powershellDump } from '../support/salvage-databases';
import { salvageCli } from '../support/salvage-cli';

describe('salvage add-database and find (real pg_dump, a real PostgreSQL 15 data directory, the real CLI)', () => {
  let portalDb: TestDatabase;
  let oldDb: TestDatabase;
  let knex: Knex;
  let work: string;
  let host: string;
  const f: Record<string, string> = {};
  let before: Record<string, string>;
  const run = (args: string[]) => salvageCli(portalDb.url, path.join(work, 'portal-data'), args);

  beforeAll(async () => {
    portalDb = await createTestDatabase();
    oldDb = await createTestDatabase();
    knex = createKnex(portalDb.url, 2);
    await buildUser(knex, { display_id: 'taro', email: 'taro@example.com' }); // someone who re-registered
    const oldKnex = createKnex(oldDb.url, 1);
    await fillOldToybox(oldKnex);
    await oldKnex.destroy();
    work = tempDir('salvage-db-');
    host = path.join(work, 'host');
    const home = path.join(host, 'home', 'toybox');
    fs.mkdirSync(home, { recursive: true });
    const custom = pgDump(oldDb.url, ['-Fc']);
    const plain = pgDump(oldDb.url, ['-Fp', '--no-owner']).toString('utf8');
    f.custom = path.join(home, 'toybox.dump');
    fs.writeFileSync(f.custom, custom);
    f.utf16 = path.join(home, 'backup_current_20251217_152233.sql');
    fs.writeFileSync(f.utf16, powershellDump(plain));
    f.gz = path.join(home, 'nightly.sql.gz');
    fs.writeFileSync(f.gz, zlib.gzipSync(Buffer.from(plain)));
    f.utf16nobom = path.join(home, 'export.txt');
    fs.writeFileSync(f.utf16nobom, iconv.encode(plain, 'utf16le'));
    const broken = path.join(work, 'broken');
    fs.mkdirSync(broken);
    f.truncCustom = path.join(broken, 'cut.dump');
    fs.writeFileSync(f.truncCustom, custom.subarray(0, Math.floor(custom.length * 0.6)));
    f.truncPlain = path.join(broken, 'cut.sql');
    fs.writeFileSync(f.truncPlain, plain.slice(0, Math.floor(plain.length * 0.7)));
    f.notDump = path.join(broken, 'notes.sql');
    fs.writeFileSync(f.notDump, 'SELECT 1; -- my notes\n');
    f.datadir = await makeToyboxDataDir(path.join(host, 'var', 'snap', 'docker', 'common', 'var-lib-docker', 'volumes'));
    f.oldVersion = path.join(broken, 'pg14', '_data');
    fs.cpSync(f.datadir, f.oldVersion, { recursive: true });
    fs.writeFileSync(path.join(f.oldVersion, 'PG_VERSION'), '14\n');
    // the rest of what `find` should see, and decoys it should not list
    await makeOldUploadsTree(path.join(host, 'srv', 'toybox', 'backend', 'public', 'uploads'));
    const logDir = path.join(host, 'var', 'lib', 'docker', 'containers', 'abc123');
    fs.mkdirSync(logDir, { recursive: true });
    f.log = path.join(logDir, 'abc123-json.log');
    fs.writeFileSync(f.log, `${JSON.stringify({ log: 'File uploaded successfully: submissions/2_1767225600.png\n', stream: 'stderr', time: '2026-01-01T00:00:00.1Z' })}\n`);
    const tarSrc = path.join(work, 'tar-src');
    await makeOldUploadsTree(path.join(tarSrc, 'uploads'));
    f.tarball = path.join(home, 'uploads_backup_20260101.tar.gz');
    expect(spawnSync('tar', ['czf', f.tarball, '-C', tarSrc, 'uploads']).status).toBe(0);
    fs.mkdirSync(path.join(tarSrc, 'misc'));
    fs.writeFileSync(path.join(tarSrc, 'misc', 'a.txt'), 'hello');
    expect(spawnSync('tar', ['czf', path.join(home, 'misc.tar.gz'), '-C', tarSrc, 'misc']).status).toBe(0);
    fs.writeFileSync(path.join(home, 'notes.sql'), 'SELECT 1;\n');
    fs.writeFileSync(path.join(home, 'package.json'), '{"name":"x","version":"1.0.0"}\n');
    fs.writeFileSync(path.join(home, 'random.bin'), Buffer.alloc(4096, 7));
    const outside = path.join(work, 'outside');
    fs.mkdirSync(outside);
    fs.copyFileSync(f.custom, path.join(outside, 'elsewhere.dump'));
    fs.symlinkSync(outside, path.join(home, 'link-out'));
    before = { ...fingerprintTree(host), ...fingerprintTree(broken) };
  }, 120_000);
  afterAll(async () => {
    await knex.destroy();
    await portalDb.drop();
    await oldDb.drop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const rowsIn = async (schema: string, table: string) => Number((await knex.withSchema(schema).from(table).count('* as n'))[0]!.n);

  it('find lists each source in the tree with why it matched, and nothing else', () => {
    const r = run(['find', host, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { candidates: Array<{ path: string; type: string; why: string; size: number; mtime: string }>; symlinksNotFollowed: number };
    const got = out.candidates.map((c) => [path.relative(host, c.path), c.type]).sort();
    expect(got).toEqual(
      [
        ['home/toybox/backup_current_20251217_152233.sql', 'plain_dump'],
        ['home/toybox/export.txt', 'plain_dump'],
        ['home/toybox/nightly.sql.gz', 'plain_dump'],
        ['home/toybox/toybox.dump', 'custom_dump'],
        ['home/toybox/uploads_backup_20260101.tar.gz', 'uploads_tarball'],
        ['srv/toybox/backend/public/uploads', 'uploads_tree'],
        ['var/lib/docker/containers/abc123/abc123-json.log', 'docker_json_log'],
        ['var/snap/docker/common/var-lib-docker/volumes/postgres_data/_data', 'pg_data_dir'],
      ].sort(),
    );
    const why = Object.fromEntries(out.candidates.map((c) => [path.basename(c.path), c.why]));
    expect(why['backup_current_20251217_152233.sql']).toContain('utf16le with BOM');
    expect(why['export.txt']).toContain('utf16le');
    expect(why['nightly.sql.gz']).toContain('gzip');
    expect(why['_data']).toContain('PG_VERSION 15');
    expect(out.symlinksNotFollowed).toBe(1);
    expect(out.candidates.every((c) => c.size > 0 && !Number.isNaN(Date.parse(c.mtime)))).toBe(true);
    const text = run(['find', host]);
    expect(text.stdout).toContain('next: recovery-portal salvage add-database');
  });

  it('loads a custom-format dump into its own schema with exact counts, leaving TOYBOX tables alone', async () => {
    const r = run(['add-database', f.custom, '--json']);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect(r.code).toBe(0);
    const load = JSON.parse(r.stdout);
    expect(load.format).toBe('custom_dump');
    expect(load.schema).toMatch(/^salvage_\d+$/);
    expect(load.table_counts).toMatchObject(OLD_COUNTS);
    expect(await rowsIn(load.schema, 'users')).toBe(3);
    expect(await rowsIn('public', 'users')).toBe(1);
    const again = JSON.parse(run(['add-database', f.custom, '--json']).stdout);
    expect(again).toMatchObject({ already_loaded: true, schema: load.schema, table_counts: load.table_counts });
  });

  it('loads the PowerShell-style UTF-16LE dump, repairing reversible mojibake and reporting the rest', async () => {
    const r = run(['add-database', f.utf16, '--json']);
    expect(r.code).toBe(0);
    const load = JSON.parse(r.stdout);
    expect(load.format).toBe('plain_dump');
    expect(load.plain).toMatchObject({ encoding: 'utf16le-bom', crlf: true });
    expect(load.table_counts).toMatchObject(OLD_COUNTS);
    const titles = (await knex.withSchema(load.schema).from('submissions').orderBy('id').pluck('title')) as string[];
    expect(titles.slice(0, 2)).toEqual(['作品 1', 'second']);
    expect(titles[2]).toBe(iconv.decode(Buffer.from('ゲーム'), 'cp932')); // not reversible: kept, and its line reported
    const captions = (await knex.withSchema(load.schema).from('submissions').orderBy('id').pluck('caption')) as string[];
    expect(captions[0]).toBe('キャプション');
    expect(load.plain.repairs.repaired).toBeGreaterThanOrEqual(2);
    expect(load.plain.repairs.suspectLines.length).toBeGreaterThan(0);
    const text = run(['add-database', f.utf16]);
    expect(text.stdout).toContain('already loaded');
  });

  it('loads a gzip-compressed plain dump and a UTF-16 dump without BOM', async () => {
    for (const file of [f.gz, f.utf16nobom]) {
      const r = run(['add-database', file, '--json']);
      expect(r.code).toBe(0);
      const load = JSON.parse(r.stdout);
      expect(load.table_counts).toMatchObject(OLD_COUNTS);
      const names = (await knex.withSchema(load.schema).from('user_meta').orderBy('id').pluck('display_name')) as string[];
      expect(names).toEqual(['管理者', 'たろう', 'はなこ']);
    }
  });

  it('opens a copy of a real PostgreSQL 15 data directory on a private socket and loads its TOYBOX database', async () => {
    const r = run(['add-database', f.datadir, '--json']);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    expect(r.code).toBe(0);
    const load = JSON.parse(r.stdout);
    expect(load).toMatchObject({ format: 'pg_data_dir', database: 'toybox', postgres_version: '15' });
    expect(load.table_counts).toMatchObject(OLD_COUNTS);
    const emails = await knex.withSchema(load.schema).from('users').orderBy('id').pluck('email');
    expect(emails).toEqual(['admin@toybox.example', 'taro@example.com', null]);
  });

  it('refuses bad sources with one clear line, recording nothing as complete', async () => {
    const cases: Array<[string, number, RegExp]> = [
      [f.truncCustom, 2, /truncated or damaged custom-format dump/],
      [f.truncPlain, 2, /truncated: the dump stops after line \d+ without pg_dump's closing line/],
      [f.notDump, 2, /not a PostgreSQL dump/],
      [f.oldVersion, 69, /PostgreSQL 14 server binaries not found at \/usr\/lib\/postgresql\/14\/bin \(installed: 15\)/],
      [path.join(work, 'nothing-here'), 2, /no such file or directory/],
    ];
    for (const [source, code, message] of cases) {
      const r = run(['add-database', source]);
      expect({ source, code: r.code }).toEqual({ source, code });
      expect(r.stderr.trim().split('\n').pop()).toMatch(message);
      expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    }
    const sources = await knex('portal.salvage_sources').where({ kind: 'database' }).select('status', 'locator', 'schema_name');
    const complete = sources.filter((s) => s.status === 'complete');
    expect(complete).toHaveLength(5);
    expect(sources.filter((s) => s.status === 'failed').map((s) => path.basename(s.locator)).sort()).toEqual(['cut.dump', 'cut.sql']);
    const schemas = (await knex.raw("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'salvage\\_%' ORDER BY 1")).rows.map((r: { nspname: string }) => r.nspname);
    expect(schemas.sort()).toEqual(complete.map((s) => s.schema_name).sort());
  });

  it('never wrote to any source it read (bytes and mtimes unchanged), and left no server running', () => {
    expect({ ...fingerprintTree(host), ...fingerprintTree(path.join(work, 'broken')) }).toEqual(before);
    const left = fs.readdirSync(require('node:os').tmpdir()).filter((n: string) => n.startsWith('salvage-pg-'));
    expect(left).toEqual([]);
  });
});
