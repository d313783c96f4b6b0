import { tokyoDay } from '../../src/i18n/tokyo-time';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import Ajv from 'ajv';
import { parse as parseCsv } from 'csv-parse/sync';
import { signedInAgent } from '../support/portal';
import { seedUserData, seedUserWithFriend, countOwnedRows, unzipChecked, binaryParser, SECRETS, PNG, type SeededUser } from '../support/export-seed';
import { PERSONAL_DATA } from '../../src/toybox/personal-data';
import { neutraliseCell } from '../../src/files/csv-cell';
import { useTestPortal, useTempDir } from '../support/portal-stack';

type Row = Record<string, unknown>;
interface DataJson {
  format_version: number;
  exported_at: string;
  user: { id: number; display_id: string; global_id: string };
  kinds: Record<string, Row[]>;
  counts: Record<string, number>;
  media: Array<{ source: string; path: string | null; status: string; sha256: string | null }>;
}

describe('personal data export archive', () => {
  const mediaDir = useTempDir('export-media-');
  const work = useTempDir('export-work-');
  const portal = useTestPortal({ TOYBOX_MEDIA_DIR: mediaDir, EXPORT_COOLDOWN_HOURS: '0' });
  let a: SeededUser;
  let b: SeededUser;

  beforeAll(async () => {
    ({ user: a, friend: b } = await seedUserWithFriend(portal.ctx.knex, mediaDir, 'alice', 'bob'));
    // B reacts to and follows A too, so each has rows pointing at the other.
    await portal.ctx.knex('public.user_follows').insert({ follower_id: b.id, following_id: a.id, created_at: new Date() });
    await portal.ctx.knex('public.reactions').insert({ user_id: b.id, submission_id: a.postIds[0], type: 'cute', created_at: new Date() });
  });

  const signIn = (user: SeededUser) => signedInAgent(portal, user.display_id, user.password);

  function csvValue(col: { type: string }, value: unknown): unknown {
    if (value === null) return '';
    if (col.type === 'json') return value;
    return col.type === 'text' ? neutraliseCell(String(value)) : String(value);
  }

  async function checkArchive(owner: SeededUser, other: SeededUser) {
    const agent = await signIn(owner);
    const started = Date.now();
    const res = await agent.get('/api/me/export?format=zip').buffer(true).parse(binaryParser);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(res.headers['content-type']).toBe('application/zip');
    const date = tokyoDay(new Date());
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="toybox-export-${owner.display_id}-${date}.zip"; filename*=UTF-8''toybox-export-${owner.display_id}-${date}.zip`,
    );
    const dir = path.join(work, owner.tag);
    const { test, files } = unzipChecked(res.body as Buffer, dir);
    expect(test).toMatch(/No errors detected/);
    const root = path.join(dir, 'x');
    const read = (f: string) => fs.readFileSync(path.join(root, f));

    for (const f of ['README.txt', 'data.json', 'schema.json', 'index.html', 'manifest.json', 'missing-media.txt']) expect(files).toContain(f);
    for (const k of PERSONAL_DATA) expect(files).toContain(`csv/${k.kind}.csv`);

    // JSON validates against the schema shipped in the archive
    const data = JSON.parse(read('data.json').toString('utf8')) as DataJson;
    const schema = JSON.parse(read('schema.json').toString('utf8'));
    const ajv = new Ajv({ allErrors: true, strict: true });
    ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)) && /^\d{4}-\d{2}-\d{2}T/.test(s));
    const valid = ajv.validate(schema, data);
    expect(ajv.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(data.format_version).toBe(2);
    const host = new URL(portal.ctx.config.TOYBOX_URL).host;
    expect(data.user).toEqual({ id: owner.id, display_id: owner.display_id, global_id: `toybox:${host}:new:users:${owner.id}` });
    // every row (summaries aside) carries its stable global id: site, era, table, id
    for (const k of PERSONAL_DATA.filter((x) => !x.groupBy)) {
      for (const row of data.kinds[k.kind]!) expect(row.global_id).toBe(`toybox:${host}:new:${k.table}:${String(row.id)}`);
    }

    // every exported table: the archive holds exactly the owner's rows
    const dbCounts = await countOwnedRows(portal.ctx.knex, owner.id);
    const archiveCounts = Object.fromEntries(PERSONAL_DATA.map((k) => [k.kind, data.kinds[k.kind]!.length]));
    expect(archiveCounts).toEqual(dbCounts);
    expect(data.counts).toEqual(dbCounts);
    for (const kind of Object.keys(dbCounts)) expect(dbCounts[kind]).toBeGreaterThan(0);
    expect(data.kinds.profile![0]!.id).toBe(owner.id);
    expect(data.kinds.posts!.map((p) => p.id).sort()).toEqual([...owner.postIds].sort());
    expect(data.kinds.posts!.some((p) => other.postIds.includes(p.id as number))).toBe(false);
    const owned = async (table: string, col: string) => (await portal.ctx.knex(`public.${table}`).where(col, owner.id).pluck('id')).map(Number).sort();
    expect(data.kinds.cards!.map((r) => r.id).sort()).toEqual(await owned('user_cards', 'user_id'));
    expect(data.kinds.reactions!.map((r) => r.id).sort()).toEqual(await owned('reactions', 'user_id'));
    expect(data.kinds.point_history!.map((r) => r.id).sort()).toEqual(await owned('point_history', 'user_id'));
    expect(data.kinds.follows!.map((r) => r.following_id)).toEqual([other.id].slice(0, dbCounts.follows));
    expect(data.kinds.cards![0]).toMatchObject({ card_name: expect.any(String), card_rarity: expect.any(String), card_code: expect.any(String) });
    // reactions received are counts per post and type, never who gave them
    expect(data.kinds.reactions_received!.every((r) => owner.postIds.includes(r.submission_id as number) && Object.keys(r).length === 3)).toBe(true);
    expect(data.kinds.titles![0]).toMatchObject({ name: `${owner.tag}-title`, is_active_title: true });

    // nothing secret and nothing of the other user's own content
    const everything = files.map((f) => read(f).toString('latin1')).join('\n');
    for (const secret of Object.values(SECRETS)) expect(everything).not.toContain(secret);
    expect(everything).not.toContain('pbkdf2_sha256');
    expect(everything).not.toContain(`${other.tag} caption`);
    expect(everything).not.toContain(`${other.tag} 東京都`);
    expect(data.kinds.profile![0]).not.toHaveProperty('password');

    // CSVs: BOM, CRLF record ends, and they parse back to the same rows
    for (const k of PERSONAL_DATA) {
      const raw = read(`csv/${k.kind}.csv`);
      expect([...raw.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      expect(raw.toString('utf8')).toMatch(/\r\n$/);
      const records = parseCsv(raw, { bom: true, columns: true }) as Array<Record<string, string>>;
      expect(Object.keys(records[0] ?? {})).toEqual(k.columns.map((c) => c.name));
      const rows = data.kinds[k.kind]!;
      expect(records).toHaveLength(rows.length);
      records.forEach((rec, i) => {
        for (const c of k.columns) {
          const expected = csvValue(c, rows[i]![c.name]);
          const got = c.type === 'json' ? JSON.parse(rec[c.name]!) : rec[c.name];
          expect({ kind: k.kind, column: c.name, value: got }).toEqual({ kind: k.kind, column: c.name, value: expected });
        }
      });
    }

    // media: relative paths and site URLs map into media/, missing ones are listed
    expect(read(`media/submissions/${owner.id}_1.png`).equals(PNG)).toBe(true);
    expect(files).toContain(`media/submissions/${owner.id}_2.png`);
    expect(files).toContain(`media/profiles/avatar_${owner.id}_ab12.png`);
    expect(files).toContain(`media/articles/media/${owner.id}.png`);
    expect(files).not.toContain(`media/submissions/${other.id}_1.png`);
    const byUrl = data.media.find((m) => m.source.startsWith('https://toybox.example/uploads/'));
    expect(byUrl).toEqual({
      source: `https://toybox.example/uploads/submissions/${owner.id}_2.png`,
      path: `media/submissions/${owner.id}_2.png`,
      status: 'included',
      sha256: crypto.createHash('sha256').update(PNG).digest('hex'),
    });
    expect(data.media.find((m) => m.status === 'missing')!.sha256).toBeNull();
    expect(read('missing-media.txt').toString('utf8')).toContain(`missing\tsubmissions/${owner.id}_gone.jpg`);
    expect(read('missing-media.txt').toString('utf8')).toContain('missing\tcards/dragon.png');

    // manifest: every other file with its real size and SHA-256
    const manifest = JSON.parse(read('manifest.json').toString('utf8')) as { files: Array<{ path: string; size: number; sha256: string }> };
    expect(manifest.files.map((f) => f.path).sort()).toEqual(files.filter((f) => f !== 'manifest.json' && f !== 'manifest.sig'));
    for (const f of manifest.files) {
      const buf = read(f.path);
      expect({ path: f.path, size: buf.length, sha256: crypto.createHash('sha256').update(buf).digest('hex') }).toEqual(f);
    }

    // the viewer carries the data inline, with "<" escaped so a caption cannot end the script
    const html = read('index.html').toString('utf8');
    expect(html).toContain(`${owner.tag} 最初の投稿`);
    expect(html).not.toContain('</script> tag');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(read('README.txt').toString('utf8')).toMatch(/日本語[\s\S]*English/);
    return data;
  }

  it("gives A all of A's rows and none of B's", async () => {
    await checkArchive(a, b);
  });

  it("gives B all of B's rows and none of A's", async () => {
    await checkArchive(b, a);
  });

  it('reads each media file once per archive: hashed while it streams into the ZIP, the hashes in data.json and the manifest those of the bytes shipped', async () => {
    // Counts opens of files under the media folder (fs.open for streams by path, fs.promises.open for handles):
    // every open of a media file reads it whole, so one open per file is one read per file.
    const c = await seedUserData(portal.ctx.knex, mediaDir, 'carol'); // a fresh user: nothing stored to reuse
    const agent = await signIn(c);
    const opens = new Map<string, number>();
    const note = (file: unknown) => {
      const f = String(file);
      if (f.startsWith(mediaDir)) opens.set(f, (opens.get(f) ?? 0) + 1);
    };
    const orig = { open: fs.open, openSync: fs.openSync, promisesOpen: fs.promises.open };
    const spies = [
      jest.spyOn(fs, 'open').mockImplementation(((...args: unknown[]) => (note(args[0]), (orig.open as (...a: unknown[]) => void)(...args))) as typeof fs.open),
      jest.spyOn(fs, 'openSync').mockImplementation(((...args: unknown[]) => (note(args[0]), (orig.openSync as (...a: unknown[]) => number)(...args))) as typeof fs.openSync),
      jest.spyOn(fs.promises, 'open').mockImplementation(((...args: unknown[]) => (note(args[0]), (orig.promisesOpen as (...a: unknown[]) => Promise<fs.promises.FileHandle>)(...args))) as typeof fs.promises.open),
    ];
    let res;
    try {
      res = await agent.get('/api/me/export?format=zip').buffer(true).parse(binaryParser);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect([res.status, res.status === 200 ? '' : (res.body as Buffer).toString('utf8').slice(0, 300)]).toEqual([200, '']);
    const dir = path.join(work, 'once');
    const { test } = unzipChecked(res.body as Buffer, dir);
    expect(test).toMatch(/No errors detected/);
    const root = 'x';
    const data = JSON.parse(fs.readFileSync(path.join(dir, root, 'data.json'), 'utf8')) as DataJson;
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, root, 'manifest.json'), 'utf8')) as { files: Array<{ path: string; sha256: string }> };
    const included = data.media.filter((m) => m.status === 'included');
    expect(included.length).toBeGreaterThan(0);
    for (const m of included) {
      const shipped = fs.readFileSync(path.join(dir, root, m.path!));
      expect(m.sha256).toBe(crypto.createHash('sha256').update(shipped).digest('hex'));
      expect(manifest.files.find((f) => f.path === m.path)?.sha256).toBe(m.sha256);
    }
    // every media file of the user's that went into the archive was opened (and read) exactly once
    const distinct = new Set(included.map((m) => m.path));
    expect(opens.size).toBe(distinct.size);
    expect([...opens.values()].every((n) => n === 1)).toBe(true);
  });

  it('serves data.json alone for format=json, valid against the same schema', async () => {
    const agent = await signIn(a);
    const res = await agent.get('/api/me/export?format=json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-disposition']).toMatch(/filename\*=UTF-8''toybox-export-alice_\w+-\d{4}-\d{2}-\d{2}\.json$/);
    const data = res.body as DataJson;
    expect(data.counts).toEqual(await countOwnedRows(portal.ctx.knex, a.id));
    expect(data.kinds.posts).toHaveLength(a.postIds.length);
  });

  it('shows the counts on /export and refuses a bad format with 422', async () => {
    const agent = await signIn(a);
    const page = await agent.get('/export');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<tr data-kind="posts"><td>投稿<\/td><td class="num">4<\/td><\/tr>/);
    expect(page.text).toContain('ZIP をダウンロード');
    const bad = await agent.get('/api/me/export?format=rar');
    expect(bad.status).toBe(422);
    expect(bad.body.error.message).toContain('zip');
    const anonymous = await portal.agent().get('/api/me/export?format=zip');
    expect(anonymous.status).toBe(401);
  });
});
