import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { startTestPortal, tempDir, signedInAgent, csrfFrom, type TestPortal } from '../support/portal';
import { spawnPortal, signedInProcessAgent, type PortalProcess } from '../support/portal-process';
import { mountSmallDisk, type SmallDisk } from '../support/small-disk';
import { seedUserData, writeMedia, binaryParser, type SeededUser } from '../support/export-seed';
import { buildUser } from '../support/factories';
import { requestExport } from '../../src/features/export/service';
import { backupNow } from '../../src/features/backups/service';
import * as notices from '../../src/features/notice/service';
import { parseNoticeInput } from '../../src/features/notice/schema';
import { eventuallyValue } from '../support/eventually';

// A 4 MB filesystem holds DATA_DIR and BACKUP_DIR. The portal process (a real `node src/main.ts`,
// running the workers) and the test's in-process portal share it and the database.
let disk: SmallDisk;
let portal: TestPortal;
let proc: PortalProcess | null = null;
let mediaDir: string;
let dataDir: string;
let backupDir: string;

/** `eventuallyValue`, with the portal process's last output in the error. */
const until = <T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> =>
  eventuallyValue(fn, ok, ms, 100).catch((err: Error) => {
    throw new Error(`${err.message}\n${proc?.output().slice(-3000)}`);
  });

/** The portal process is alive and serving what users and TOYBOX's banner need. */
async function expectServing(): Promise<void> {
  expect(proc!.child.exitCode).toBeNull();
  const health = await fetch(`${proc!.url}/healthz`);
  expect(health.status).toBe(200);
  const notice = await fetch(`${proc!.url}/api/notice`);
  expect(notice.status).toBe(200);
  await notice.json();
}

/** Files whose names say they were left half-written: *.part, *.tmp, scratch spools. */
function leftovers(): string[] {
  return fs
    .readdirSync(disk.dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name !== 'ballast')
    .map((e) => path.relative(disk.dir, path.join(e.parentPath, e.name)))
    .filter((f) => /\.part$|\.tmp$|^data\/exports\/tmp\/|^data\/campaign-uploads\//.test(f));
}

const failuresOf = async (area: string) => portal.ctx.knex('portal.write_failures').where({ area }).select('code', 'path');
/** The write_failed alert of an area ends as soon as a write of that area works again (not an hour later). */
const alertCleared = (area: string) =>
  until(
    () => portal.ctx.knex('portal.alerts').where({ condition: `write_failed:${area}` }).orderBy('id', 'desc').first(),
    (row) => Boolean(row?.cleared_at),
    10_000,
  );
const openAlert = (area: string) =>
  until(
    () => portal.ctx.knex('portal.alerts').where({ condition: `write_failed:${area}` }).whereNull('cleared_at').first(),
    (row) => Boolean(row),
  );

/** A user whose archive (one 600 KB photo) cannot fit in what the test leaves free. */
async function bigUser(tag: string): Promise<SeededUser> {
  const u = await seedUserData(portal.ctx.knex, mediaDir, tag);
  writeMedia(mediaDir, `submissions/${u.id}_1.png`, crypto.randomBytes(600 * 1024));
  return u;
}

beforeAll(async () => {
  disk = mountSmallDisk('4m');
  dataDir = path.join(disk.dir, 'data');
  backupDir = path.join(disk.dir, 'backups');
  mediaDir = tempDir('disk-full-media-');
  // In process: every request queues (EXPORT_BACKGROUND_ROWS=1) for the process's worker; mail goes to the outbox.
  portal = await startTestPortal({ DATA_DIR: dataDir, BACKUP_DIR: backupDir, TOYBOX_MEDIA_DIR: mediaDir, EXPORT_BACKGROUND_ROWS: '1', EXPORT_COOLDOWN_HOURS: '24' });
  proc = await spawnPortal({
    DATABASE_URL: portal.db.url,
    DATA_DIR: dataDir,
    BACKUP_DIR: backupDir,
    TOYBOX_MEDIA_DIR: mediaDir,
    SESSION_SECRET: portal.config.SESSION_SECRET,
    EXPORT_COOLDOWN_HOURS: '24',
    MONITOR_INTERVAL_SECONDS: '1',
  });
}, 90_000);

afterAll(async () => {
  await proc?.stop().catch(() => undefined);
  await portal?.close().catch(() => undefined);
  fs.rmSync(mediaDir, { recursive: true, force: true });
  disk?.unmount();
});

afterEach(() => disk.release());

describe('a full disk stops only the work that was writing', () => {
  it('background export: the job fails, its partial files go, an alert is raised, the process lives; the retry works', async () => {
    const a = await bigUser('bgfull');
    disk.fill(200 * 1024);
    const request = () =>
      requestExport(portal.ctx, { subject: { id: a.id, display_id: a.display_id }, format: 'zip', lang: 'ja', requestedBy: 'test', counted: true, notifyEmail: null });
    const first = await request();
    expect(first.action).toBe('queued');
    const failed = await until(() => portal.ctx.knex('portal.export_jobs').where({ id: first.job.id }).first(), (j) => j.status === 'failed');
    expect(failed.error).toMatch(/ENOSPC|no space/i);
    await expectServing();
    expect(leftovers()).toEqual([]);
    expect((await failuresOf('export')).map((f) => f.code)).toContain('ENOSPC');
    expect((await openAlert('export')).details).toMatchObject({ area: 'export', code: 'ENOSPC' });

    disk.release();
    const second = await request(); // a failed export never counts toward the 24 h cooldown
    const done = await until(() => portal.ctx.knex('portal.export_jobs').where({ id: second.job.id }).first(), (j) => j.status !== 'queued' && j.status !== 'running');
    expect(done.status).toBe('done');
    expect(fs.statSync(done.file_path).size).toBeGreaterThan(600 * 1024);
    await alertCleared('export');
    await expectServing();
  });

  it('streamed export: the download is cut, the job fails, nothing is left; the next download works', async () => {
    const b = await bigUser('streamfull');
    const agent = await signedInProcessAgent(proc!.url, b.display_id, b.password);
    disk.fill(200 * 1024);
    const cut = await agent
      .get('/api/me/export?format=zip')
      .buffer(true)
      .parse(binaryParser)
      .then((r) => r.body as Buffer, (err: Error) => err);
    // the headers had left: a cut-off download, never a complete-looking file
    if (Buffer.isBuffer(cut)) expect(cut.length).toBeLessThan(600 * 1024);
    const job = await until(() => portal.ctx.knex('portal.export_jobs').where({ user_id: b.id }).first(), (j) => j?.status === 'failed');
    expect(job.mode).toBe('stream');
    expect((await failuresOf('export')).length).toBe(2); // this one and the background one before it
    await expectServing();
    // The job is marked failed first; its scratch files go a moment later, in the same cleanup.
    expect(await until(async () => leftovers(), (l) => l.length === 0, 5000).catch(() => leftovers())).toEqual([]);

    disk.release();
    const ok = await agent.get('/api/me/export?format=zip').buffer(true).parse(binaryParser);
    expect(ok.status).toBe(200);
    expect((ok.body as Buffer).length).toBeGreaterThan(600 * 1024);
    await expectServing();
  });

  it('backup: marked failed with its folder removed and a write_failed alert; the next backup is good', async () => {
    disk.fill(8 * 1024);
    await expect(backupNow(portal.ctx, 'database', { trigger: 'test' })).rejects.toThrow(/No space left on device|ENOSPC/);
    const [row] = await portal.ctx.knex('portal.backups').orderBy('id', 'desc').limit(1);
    expect(row.status).toBe('failed');
    expect(fs.existsSync(path.join(backupDir, row.dir))).toBe(false);
    expect(leftovers()).toEqual([]);
    expect((await failuresOf('backup')).map((f) => f.code)).toContain('ENOSPC');
    await openAlert('backup');
    await expectServing();

    disk.release();
    const good = await backupNow(portal.ctx, 'database', { trigger: 'test' });
    expect(good!.status).toBe('good');
    await alertCleared('backup');
    expect(await portal.ctx.knex('portal.write_failures').where({ area: 'backup' }).whereNull('cleared_at')).toEqual([]);
  });

  it('outbox mail: the send fails with ENOSPC, no half .eml is left; the next send is written', async () => {
    const outbox = path.join(dataDir, 'outbox');
    const before = fs.existsSync(outbox) ? fs.readdirSync(outbox) : [];
    disk.fill(0);
    const message = { to: 'someone@example.org', subject: 'テスト', text: 'x'.repeat(20_000) };
    await expect(portal.ctx.mailer.send(message)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(fs.readdirSync(outbox)).toEqual(before);
    expect((await failuresOf('outbox')).map((f) => f.code)).toContain('ENOSPC');
    await openAlert('outbox');
    await expectServing();

    disk.release();
    const sent = await portal.ctx.mailer.send(message);
    expect(fs.readFileSync(path.join(outbox, sent.outboxFile!), 'utf8')).toContain('Subject:');
    await alertCleared('outbox');
  });

  it('notice snapshots: the banner keeps the new notice from memory, the old files stay whole; the next publish writes them', async () => {
    const actor = { label: 'test:disk-full', userId: null };
    const input = (title: string) => {
      const r = parseNoticeInput({ kind: 'incident', severity: 'critical', title_ja: title, body_ja: `${title}の本文` });
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      return r.value;
    };
    const publicJson = path.join(dataDir, 'public', 'notice.json');
    const before = fs.readFileSync(publicJson, 'utf8');
    disk.fill(0);
    await notices.createNotice(portal.ctx, input('ディスク満杯中の障害'), actor, { publish: true });
    // the process serves it from memory (NOTIFY), whatever the disk says
    await until(() => fetch(`${proc!.url}/api/notice`).then((r) => r.text()), (t) => t.includes('ディスク満杯中の障害'));
    expect(fs.readFileSync(publicJson, 'utf8')).toBe(before);
    expect(leftovers()).toEqual([]);
    expect((await failuresOf('notice')).length).toBeGreaterThan(0);
    await openAlert('notice');
    await expectServing();

    disk.release();
    await notices.createNotice(portal.ctx, input('空きができた後の告知'), actor, { publish: true });
    await until(async () => fs.readFileSync(publicJson, 'utf8'), (t) => t.includes('空きができた後の告知') && t.includes('ディスク満杯中の障害'));
  });

  it('address upload: 507 with a clear message and nothing spooled; the next upload is kept', async () => {
    const staff = await buildUser(portal.ctx.knex, { is_staff: true });
    const agent = await signedInAgent(portal, staff.display_id, staff.password);
    const page = await agent.get('/admin/campaigns/import');
    const csv = `email,name\n${Array.from({ length: 200 }, (_, i) => `p${i}@example.org,P${i}`).join('\n')}\n`;
    const upload = () => agent.post('/admin/campaigns/import').field('_csrf', csrfFrom(page.text)).field('format', 'csv').attach('file', Buffer.from(csv), 'list.csv');
    disk.fill(0);
    const full = await upload();
    expect(full.status).toBe(507);
    expect(full.text).toContain('ファイルを保存できませんでした');
    expect(leftovers()).toEqual([]);
    expect((await failuresOf('upload')).map((f) => f.code)).toContain('ENOSPC');
    await openAlert('upload');
    await expectServing();

    disk.release();
    const kept = await upload();
    expect(kept.status).toBe(303);
    expect(kept.headers.location).toMatch(/\/admin\/campaigns\/import\/[0-9a-f]{24}\/map$/);
    await alertCleared('upload');
  });
});
