import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import exifr from 'exifr';
import type { Knex } from 'knex';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { tempDir } from '../support/portal';
import { createKnex } from '../../src/db';
import { A1111_TEXT, fingerprintTree, makeNewUploadsTree, makeOldUploadsTree, NEW_TS, OLD_TS, picture, withPngText, type UploadsFixture } from '../support/salvage-fixtures';
import { spawnSync } from 'node:child_process';
import { salvageCli, spawnSalvageCli } from '../support/salvage-cli';

interface CatalogueRow {
  rel_path: string;
  kind: string;
  era: string;
  era_basis: string;
  old_user_id: number | null;
  display_id: string | null;
  uploaded_at: Date | null;
  original_path: string | null;
  sha256: string;
  size: number;
  mtime_ms: number;
}

async function catalogue(knex: Knex, sourceId: number): Promise<CatalogueRow[]> {
  return knex('portal.salvage_files')
    .where({ source_id: sourceId })
    .orderBy('rel_path')
    .select('rel_path', 'kind', 'era', 'era_basis', 'old_user_id', 'display_id', 'uploaded_at', 'original_path', 'sha256', 'size', 'mtime_ms', 'catalogued_at');
}

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('salvage add-media (real files, the real CLI, real PostgreSQL)', () => {
  let db: TestDatabase;
  let knex: Knex;
  let work: string;
  let oldTree: string;
  let newTree: string;
  let oldFixture: UploadsFixture;
  let before: Record<string, string>;
  const run = (args: string[]) => salvageCli(db.url, path.join(work, 'data'), args);

  beforeAll(async () => {
    db = await createTestDatabase();
    knex = createKnex(db.url, 2);
    work = tempDir('salvage-media-');
    oldTree = path.join(work, 'host', 'public', 'uploads');
    newTree = path.join(work, 'volume');
    oldFixture = await makeOldUploadsTree(oldTree);
    await makeNewUploadsTree(newTree, oldTree);
    before = { ...fingerprintTree(oldTree), ...fingerprintTree(newTree) };
  });
  afterAll(async () => {
    await knex.destroy();
    await db.drop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('catalogues every file of the host tree with exact counts, kinds, ids, eras and links', async () => {
    const r = run(['add-media', path.join(work, 'host'), '--json']);
    expect(r.stderr).not.toContain('Error:');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const total = Object.keys(oldFixture.files).length;
    expect(out.counts.files).toBe(total);
    expect(out.counts.blobs).toBe(total - 1); // the header reuses the post image's bytes
    expect(out.counts.duplicate_names).toBe(1);
    const expectedKinds: Record<string, number> = {};
    for (const k of Object.values(oldFixture.files)) expectedKinds[k] = (expectedKinds[k] ?? 0) + 1;
    expect(out.counts.by_kind).toEqual(expectedKinds);
    expect(out.counts.by_era).toEqual({ old: total - 1, new: 1 });
    expect(out.counts.unreadable_images).toBe(1);
    expect(r.stderr).toContain(`public/uploads/submissions/5_${OLD_TS + 9500}.png: not a readable image`);

    const rows = await catalogue(knex, out.source_id);
    const byName = new Map(rows.map((x) => [x.rel_path.replace('public/uploads/', ''), x]));
    const post = byName.get(`submissions/2_${OLD_TS}.png`)!;
    expect(post).toMatchObject({ kind: 'post_image', old_user_id: 2, era: 'old', era_basis: 'name' });
    expect(post.uploaded_at!.toISOString()).toBe(new Date(OLD_TS * 1000).toISOString());
    expect(post.sha256).toBe(sha(path.join(oldTree, `submissions/2_${OLD_TS}.png`)));
    expect(byName.get('profiles/header_2_deadbeef.png')).toMatchObject({ kind: 'header', old_user_id: 2, sha256: post.sha256 });
    expect(byName.get(`submissions/2_${OLD_TS}_thumb.jpg`)!.original_path).toBe(`public/uploads/submissions/2_${OLD_TS}.png`);
    expect(byName.get(`submissions/2_${OLD_TS + 100}_poster.jpg`)!.original_path).toBe(`public/uploads/submissions/2_${OLD_TS + 100}.mp4`);
    expect(byName.get(`submissions/2_${OLD_TS + 100}.mp4`)).toMatchObject({ kind: 'post_video', old_user_id: 2 });
    expect(byName.get('profiles/avatar_2_0a1b2c3d_thumb.jpg')!.original_path).toBe('public/uploads/profiles/avatar_2_0a1b2c3d.jpg');
    expect(byName.get(`submissions/9_${OLD_TS + 9900}_thumb.jpg`)).toMatchObject({ kind: 'thumbnail', old_user_id: 9, original_path: null });
    expect(byName.get(`games/taro/${OLD_TS + 20000}/js/main.js`)).toMatchObject({ kind: 'game_file', display_id: 'taro', old_user_id: null });
    expect(byName.get('submissions/thumbnails/my game cover.png')).toMatchObject({ kind: 'game_thumbnail', old_user_id: null, era_basis: 'mtime', era: 'old' });
    expect(byName.get(`submissions/3_${NEW_TS}.jpg`)).toMatchObject({ era: 'new', old_user_id: 3 });
    expect(byName.get('notes.txt')).toMatchObject({ kind: 'other' });
  });

  it('keeps prompt, seed and tool, and never GPS or local paths', async () => {
    const gpsFile = path.join(oldTree, `submissions/3_${OLD_TS + 5000}.jpg`);
    expect((await exifr.gps(gpsFile))?.latitude).toBeCloseTo(35.68, 1); // the original does carry a location
    const meta = async (rel: string) => (await knex('portal.salvage_blobs').where({ sha256: sha(path.join(oldTree, rel)) }).first()).metadata;
    expect(await meta(`submissions/2_${OLD_TS}.png`)).toMatchObject({ tool: 'Stable Diffusion web UI', prompt: 'a red fox in snow, masterpiece', seed: '424242', negative_prompt: 'blurry' });
    const comfy = await meta(`submissions/4_${OLD_TS + 9000}.png`);
    expect(comfy).toMatchObject({ tool: 'ComfyUI', seed: '777', prompt: 'blue whale, reference [path]' });
    const exif = await meta(`submissions/3_${OLD_TS + 5000}.jpg`);
    expect(exif).toMatchObject({ tool: 'NovelAI', prompt: 'cat astronaut' });
    const all = JSON.stringify(await knex('portal.salvage_blobs').select('metadata'));
    expect(all).not.toMatch(/GPS|Latitude|taro|Users|secret\.safetensors/);
    const blob = await knex('portal.salvage_blobs').where({ sha256: sha(path.join(oldTree, `submissions/2_${OLD_TS}.png`)) }).first();
    expect(blob.phash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('forces the era with --era and matches re-encoded images only by perceptual hash', async () => {
    const r = run(['add-media', newTree, '--era', 'new', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.counts).toMatchObject({ files: 2, by_era: { new: 2 }, by_kind: { post_image: 2 } });
    const reenc = (await knex('portal.salvage_blobs').where({ sha256: sha(path.join(newTree, `submissions/2_${NEW_TS + 60}.jpg`)) }).first()) as { phash: string };
    const orig = (await knex('portal.salvage_blobs').where({ sha256: sha(path.join(oldTree, `submissions/2_${OLD_TS}.png`)) }).first()) as { phash: string };
    const distance = [...(BigInt(`0x${reenc.phash}`) ^ BigInt(`0x${orig.phash}`)).toString(2)].filter((b) => b === '1').length;
    expect(distance).toBeLessThanOrEqual(6);
  });

  it('changes nothing on a second run and never re-reads unchanged files', async () => {
    const src = await knex('portal.salvage_sources').where({ kind: 'media' }).orderBy('id').first();
    const first = await catalogue(knex, src.id);
    const r = run(['add-media', path.join(work, 'host'), '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.source_id).toBe(src.id);
    expect(out.hashed).toBe(0);
    expect(out.unchanged).toBe(Object.keys(oldFixture.files).length);
    expect(await catalogue(knex, src.id)).toEqual(first);
    expect(Number((await knex('portal.salvage_sources').count('* as n'))[0]!.n)).toBe(2);
  });

  it('rejects a missing directory and a bad --era with one line and a documented exit code', () => {
    const missing = run(['add-media', path.join(work, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(`error: ${path.join(work, 'nope')}: no such directory`);
    const era = run(['add-media', newTree, '--era', 'sometime']);
    expect(era.code).toBe(2);
    expect(era.stderr).toContain('--era must be old, new or auto');
  });

  it('after kill -9 mid-catalogue, a re-run ends identical to an uninterrupted run', async () => {
    const big = path.join(work, 'big-a');
    const twin = path.join(work, 'big-b');
    const png = fs.readFileSync(path.join(oldTree, 'cards/C001.png'));
    for (let i = 0; i < 600; i++) {
      const rel = `submissions/${(i % 40) + 1}_${OLD_TS + i}${i % 3 === 0 ? '.png' : '.mp4'}`;
      const bytes = i % 3 === 0 ? png : crypto.randomBytes(2048 + (i % 97));
      for (const root of [big, twin]) {
        fs.mkdirSync(path.join(root, 'submissions'), { recursive: true });
        fs.writeFileSync(path.join(root, rel), bytes);
        fs.utimesSync(path.join(root, rel), OLD_TS + i, OLD_TS + i);
      }
    }
    const child = spawnSalvageCli(db.url, path.join(work, 'data'), ['add-media', big, '--batch-size', '10']);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    let seen = 0;
    for (let i = 0; i < 600 && seen < 50; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const row = await knex('portal.salvage_sources').where({ locator: fs.realpathSync(big) }).first();
      if (row) seen = Number((await knex('portal.salvage_files').where({ source_id: row.id }).count('* as n'))[0]!.n);
    }
    child.kill('SIGKILL');
    await exited;
    const killed = await knex('portal.salvage_sources').where({ locator: fs.realpathSync(big) }).first();
    const partial = Number((await knex('portal.salvage_files').where({ source_id: killed.id }).count('* as n'))[0]!.n);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(600);
    expect(killed.status).toBe('running');
    const shown = JSON.parse(run(['report', '--json']).stdout).sources.find((x: { id: number }) => x.id === killed.id);
    expect(shown.status).toBe('interrupted'); // no live run holds it: never stuck "running"

    expect(run(['add-media', big]).code).toBe(0);
    expect(run(['add-media', twin]).code).toBe(0);
    const sources = await knex('portal.salvage_sources').whereIn('locator', [fs.realpathSync(big), fs.realpathSync(twin)]).orderBy('id');
    expect(sources.map((s) => s.status)).toEqual(['complete', 'complete']);
    const strip = (rows: CatalogueRow[]) => rows.map(({ catalogued_at: _c, ...rest }: CatalogueRow & { catalogued_at?: Date }) => rest);
    const resumed = strip(await catalogue(knex, sources[0].id));
    expect(resumed).toHaveLength(600);
    expect(resumed).toEqual(strip(await catalogue(knex, sources[1].id)));
    expect(sources[0].details).toEqual(sources[1].details);
  });

  it('draws a progress bar on a terminal (stderr) and refuses a second run on the same tree while one runs', async () => {
    const tree = path.join(work, 'tty-tree');
    for (let i = 0; i < 300; i++) {
      fs.mkdirSync(path.join(tree, 'submissions'), { recursive: true });
      fs.writeFileSync(path.join(tree, `submissions/7_${OLD_TS + i}.mp4`), crypto.randomBytes(1024));
    }
    // `script` gives the real CLI a pseudo-terminal, as an operator's shell would.
    const env = { ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: db.url, DATA_DIR: path.join(work, 'data'), NODE_ENV: 'test' };
    const cmd = `${process.execPath} --import tsx src/cli/main.ts salvage add-media ${tree} --batch-size 20`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: path.resolve(__dirname, '..', '..'), env, encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/cataloguing \[[^\]]+\] 100% 300\/300 files/);
    expect(r.stdout).toContain('300 files (300 distinct contents');

    // A file that disappears keeps its row, marked missing; nothing else changes.
    fs.rmSync(path.join(tree, `submissions/7_${OLD_TS + 5}.mp4`));
    const after = JSON.parse(run(['add-media', tree, '--json']).stdout);
    expect(after).toMatchObject({ hashed: 0, unchanged: 299, counts: { files: 300, missing: 1 } });

    const { lockSource } = await import('../../src/features/salvage/lock');
    const src = await knex('portal.salvage_sources').where({ locator: fs.realpathSync(tree) }).first();
    const held = await lockSource(db.url, src.id); // as a live run holds it
    try {
      const busy = run(['add-media', tree]);
      expect(busy.code).toBe(75);
      expect(busy.stderr.trim()).toBe(`error: source ${src.id} is being read by another run`);
    } finally {
      await held.release();
    }
  });

  it('decodes images in a second pass that a later run finishes (after --no-images, or a kill during it)', async () => {
    const tree = path.join(work, 'images-later');
    fs.mkdirSync(path.join(tree, 'submissions'), { recursive: true });
    const names: string[] = [];
    for (let i = 0; i < 6; i++) {
      const rel = `submissions/9_${OLD_TS + 100 + i}.${i % 2 ? 'png' : 'jpg'}`;
      const img = await picture(200 + i, 64 + i);
      const bytes = i % 2 ? withPngText(await img.png().toBuffer(), 'parameters', A1111_TEXT) : await img.jpeg().toBuffer();
      fs.writeFileSync(path.join(tree, rel), bytes);
      names.push(rel);
    }
    fs.writeFileSync(path.join(tree, `submissions/9_${OLD_TS + 200}.mp4`), crypto.randomBytes(4096));
    const shas = names.map((rel) => sha(path.join(tree, rel)));
    const facts = async () => knex('portal.salvage_blobs').whereIn('sha256', shas).orderBy('sha256').select('sha256', 'phash', 'width', 'height', 'format', 'metadata', 'warning');

    const hashedOnly = JSON.parse(run(['add-media', tree, '--json', '--no-images']).stdout);
    expect(hashedOnly).toMatchObject({ hashed: 7, images_decoded: 0, images_pending: 6 });
    expect((await facts()).every((b) => b.phash === null && b.width === null)).toBe(true);

    const finished = JSON.parse(run(['add-media', tree, '--json']).stdout);
    expect(finished).toMatchObject({ hashed: 0, unchanged: 7, images_decoded: 6, images_pending: 0 });
    const decoded = await facts();
    expect(decoded.every((b) => /^[0-9a-f]{16}$/.test(b.phash) && b.width >= 64 && b.warning === null)).toBe(true);
    expect(decoded.filter((b) => b.metadata?.seed === '424242')).toHaveLength(3);

    // What a kill during the image pass leaves: some contents decoded, the rest not yet.
    await knex('portal.salvage_blobs').whereIn('sha256', shas.slice(0, 4)).update({ phash: null, width: null, height: null, format: null, metadata: null });
    const resumed = JSON.parse(run(['add-media', tree, '--json']).stdout);
    expect(resumed).toMatchObject({ hashed: 0, images_decoded: 4, images_pending: 0 });
    expect(await facts()).toEqual(decoded);
  });

  it('never wrote to the trees it read (bytes and mtimes unchanged)', () => {
    expect({ ...fingerprintTree(oldTree), ...fingerprintTree(newTree) }).toEqual(before);
  });
});
