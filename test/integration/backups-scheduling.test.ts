import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import pg from 'pg';
import { startTestPortal, tempDir, type TestPortal } from '../support/portal';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { buildUser } from '../support/factories';
import { buildContext } from '../../src/open-context';
import { BackupBusy, backupNow, verifyBackup } from '../../src/features/backups/service';
import { runProgram } from '../../src/system/programs';
import { startBackground } from '../../src/jobs/runner';
import { eventuallyValue } from '../support/eventually';

describe('one runner per slot, off-host copy, media archive', () => {
  let portal: TestPortal;
  let media: string;
  let offhost: string;
  beforeAll(async () => {
    media = tempDir('toybox-media-');
    offhost = tempDir('offhost-');
    fs.mkdirSync(path.join(media, 'submissions'), { recursive: true });
    fs.writeFileSync(path.join(media, 'submissions', '12_1769040000.jpg'), Buffer.alloc(2048, 7));
    fs.mkdirSync(path.join(media, 'games', 'hanako', '1769040000'), { recursive: true });
    fs.writeFileSync(path.join(media, 'games', 'hanako', '1769040000', 'index.html'), '<h1>game</h1>');
    portal = await startTestPortal({
      TOYBOX_MEDIA_DIR: media,
      // copies the manifest away, and fails for media so both exit statuses are seen
      BACKUP_OFFHOST_COMMAND: `cp "$BACKUP_MANIFEST" "${offhost}/manifest-$BACKUP_ID.json" && test "$BACKUP_KIND" = database`,
    });
    await buildUser(portal.ctx.knex);
  });
  afterAll(async () => {
    await portal.close();
    fs.rmSync(media, { recursive: true, force: true });
    fs.rmSync(offhost, { recursive: true, force: true });
  });

  it('lets exactly one of two instances take a scheduled slot', async () => {
    const second = await buildContext(portal.config);
    try {
      const slot = new Date('2026-11-29T18:00:00Z');
      const results = await Promise.all([
        backupNow(portal.ctx, 'database', { trigger: 'schedule', scheduledFor: slot }),
        backupNow(second, 'database', { trigger: 'schedule', scheduledFor: slot }),
      ]);
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      // Even after the first finished and released the lock, the slot stays taken.
      expect(await backupNow(second, 'database', { trigger: 'schedule', scheduledFor: slot })).toBeNull();
      const rows = await portal.ctx.knex('portal.backups').where({ scheduled_for: slot });
      expect(rows).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('refuses a manual backup while another holds the lock', async () => {
    const holder = new pg.Client({ connectionString: portal.ctx.databaseUrl });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock('5426511289512855371'::bigint)");
      await expect(backupNow(portal.ctx, 'database', { trigger: 'cli' })).rejects.toBeInstanceOf(BackupBusy);
    } finally {
      await holder.end();
    }
  });

  it('runs the off-host command after a good backup and records its exit status', async () => {
    const db = (await backupNow(portal.ctx, 'database', { trigger: 'test' }))!;
    expect(db.status).toBe('good');
    expect(db.offhost_exit_code).toBe(0);
    const copied = JSON.parse(fs.readFileSync(path.join(offhost, `manifest-${db.id}.json`), 'utf8'));
    expect(copied.files[0].sha256).toBe(db.files[0]!.sha256);

    const m = (await backupNow(portal.ctx, 'media', { trigger: 'test' }))!;
    expect(m.status).toBe('good');
    expect(m.offhost_exit_code).toBe(1);
    expect(m.manifest).toMatchObject({ kind: 'media', media: { files: 2, bytes: 2048 + 13 } });
    const listing = await runProgram('tar', ['-tf', path.join(portal.config.BACKUP_DIR, m.dir!, 'media.tar')]);
    expect(listing.stdout).toContain('./submissions/12_1769040000.jpg');
    expect(listing.stdout).toContain('./games/hanako/1769040000/index.html');
    expect((await verifyBackup(portal.ctx, m.id)).ok).toBe(true);
  });
});

describe('the schedule inside the server process', () => {
  let portal: TestPortal;
  beforeAll(async () => {
    // cron-parser accepts a seconds field: every 3 seconds stands in for 03:00 daily.
    portal = await startTestPortal({ BACKUP_DB_CRON: '*/3 * * * * *' });
    await buildUser(portal.ctx.knex);
  });
  afterAll(() => portal.close());

  it('runs scheduled backups from two instances without ever doubling a slot', async () => {
    const { feature } = await import('../../src/features/backups');
    const second = await buildContext(portal.config);
    const stops = [await startBackground(portal.ctx, [feature]), await startBackground(second, [feature])];
    try {
      const rows = await eventuallyValue<Array<{ scheduled_for: Date; status: string; error: string | null }>>(
        () => portal.ctx.knex('portal.backups').where({ trigger: 'schedule' }).whereNot({ status: 'running' }).select('scheduled_for', 'status', 'error'),
        (r) => r.length >= 2,
        30_000,
        200,
      );
      expect(rows.length).toBeGreaterThanOrEqual(2);
      // Same-day backups beyond the newest are pruned by the daily rule; none may fail.
      expect(rows.filter((r) => !['good', 'pruned'].includes(r.status))).toEqual([]);
      expect(rows.some((r) => r.status === 'good')).toBe(true);
      expect(rows.every((r) => r.scheduled_for.getUTCSeconds() % 3 === 0 && r.scheduled_for.getUTCMilliseconds() === 0)).toBe(true);
    } finally {
      for (const stop of stops) await stop();
      await second.close();
    }
    const slots = await portal.ctx.knex.raw('SELECT scheduled_for, count(*)::int AS n FROM portal.backups WHERE scheduled_for IS NOT NULL GROUP BY 1 HAVING count(*) > 1');
    expect(slots.rows).toEqual([]);
  });
});

describe('a failing backup alerts by e-mail and webhook', () => {
  let portal: TestPortal;
  let sink: SmtpSink;
  let hook: http.Server;
  const posts: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    sink = await startSmtpSink();
    hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posts.push(JSON.parse(body) as Record<string, unknown>);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const port = (hook.address() as { port: number }).port;
    portal = await startTestPortal({ SMTP_URL: sink.url, ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`, PG_BIN: '/nonexistent/pg/bin' });
    await buildUser(portal.ctx.knex, { is_superuser: true, is_staff: true, email: 'ops@example.com' });
  });
  afterAll(async () => {
    await portal.close();
    await sink.close();
    await new Promise<void>((r) => hook.close(() => r()));
  });

  it('records the failure, mails the superuser once and posts the webhook', async () => {
    await expect(backupNow(portal.ctx, 'database', { trigger: 'test' })).rejects.toThrow(/ENOENT|pg_dump/);
    const [row] = await portal.ctx.knex('portal.backups').orderBy('id', 'desc').limit(1);
    expect(row.status).toBe('failed');
    const [mail] = await sink.waitFor(1);
    expect(mail!.parsed.subject).toContain(`バックアップが失敗しました（${row.id}）`);
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({ state: 'raised', condition: 'backup_failed', summary: `Backup failed (${row.id})` });
  });
});
