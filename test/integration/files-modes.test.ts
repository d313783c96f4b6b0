import fs from 'node:fs';
import path from 'node:path';
import { startTestPortal, tempDir, type TestPortal } from '../support/portal';
import { seedUserData } from '../support/export-seed';
import { backupNow } from '../../src/features/backups/service';
import { requestExport, runBackgroundExport, mailExportReady, exportsDir } from '../../src/features/export/service';
import { writeTokenFile } from '../../src/features/bootstrap/token-file';
import { writeSnapshotFiles, publicDir, snapshotPath } from '../../src/features/notice/files';
import { buildBundle } from '../../src/features/notice/bundle';
import { EMPTY_SNAPSHOT } from '../../src/features/notice/model';
import { outboxDir } from '../../src/mail/mailer';

const mode = (p: string) => (fs.statSync(p).mode & 0o777).toString(8).padStart(3, '0');

/** Every file and folder under `root` with its mode, relative names. */
function modesUnder(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(root, { withFileTypes: true, recursive: true })) {
    const full = path.join(e.parentPath, e.name);
    out[path.relative(root, full)] = mode(full);
  }
  return out;
}

// Each umask in its own portal: the files are created while it is in force.
describe.each(['022', '000'])('file modes under umask %s', (mask) => {
  let portal: TestPortal;
  let mediaDir: string;
  let previous: number;

  beforeAll(async () => {
    previous = process.umask(parseInt(mask, 8));
    mediaDir = tempDir('modes-media-');
    // no SMTP_URL: mail goes to the .eml outbox; no SESSION_SECRET: it is generated into DATA_DIR
    portal = await startTestPortal({ TOYBOX_MEDIA_DIR: mediaDir, EXPORT_BACKGROUND_ROWS: '1' });
  });
  afterAll(async () => {
    await portal.close();
    fs.rmSync(mediaDir, { recursive: true, force: true });
    process.umask(previous);
  });

  it('keeps backups, exports, mail, tokens and secrets to the portal user (0600 files, 0700 folders)', async () => {
    const { ctx, dataDir } = portal;
    const user = await seedUserData(ctx.knex, mediaDir, `modes${mask}`);

    const backup = (await backupNow(ctx, 'database', { trigger: 'test' }))!;
    expect(backup.status).toBe('good');
    const media = (await backupNow(ctx, 'media', { trigger: 'test' }))!;
    expect(media.status).toBe('good');

    const decision = await requestExport(ctx, {
      subject: { id: user.id, display_id: user.display_id },
      format: 'zip',
      lang: 'ja',
      requestedBy: 'test',
      counted: true,
      notifyEmail: user.email,
    });
    expect(decision.action).toBe('queued');
    await runBackgroundExport(ctx, decision.job.id);
    await mailExportReady(ctx, decision.job.id); // the queued mail with the link: an .eml in the outbox
    const job = await ctx.knex('portal.export_jobs').where({ id: decision.job.id }).first();
    expect(job.status).toBe('done');

    await writeTokenFile(dataDir, 'x'.repeat(43));
    await writeSnapshotFiles(dataDir, EMPTY_SNAPSHOT, buildBundle(EMPTY_SNAPSHOT, ctx.config.PUBLIC_URL));

    const backups = modesUnder(ctx.config.BACKUP_DIR);
    expect(Object.keys(backups).length).toBeGreaterThanOrEqual(8); // 2 kinds, 2 folders, 2 dumps, 2 manifests
    expect(mode(ctx.config.BACKUP_DIR)).toBe('700');
    for (const [name, m] of Object.entries(backups)) {
      const isDir = fs.statSync(path.join(ctx.config.BACKUP_DIR, name)).isDirectory();
      expect([name, m]).toEqual([name, isDir ? '700' : '600']);
    }

    expect(mode(exportsDir(ctx))).toBe('700');
    expect(mode(job.file_path)).toBe('600');
    expect(mode(path.join(exportsDir(ctx), 'tmp'))).toBe('700');

    const mails = fs.readdirSync(outboxDir(dataDir));
    expect(mails.length).toBe(1);
    expect(mode(outboxDir(dataDir))).toBe('700');
    expect(mode(path.join(outboxDir(dataDir), mails[0]!))).toBe('600');

    expect(mode(path.join(dataDir, 'bootstrap-token'))).toBe('600');
    expect(mode(path.join(dataDir, 'session-secret'))).toBe('600');
    expect(mode(snapshotPath(dataDir))).toBe('600');
    // DATA_DIR may be traversed (not listed) so that a Caddy running as its own user reaches public/
    expect(mode(dataDir)).toBe('711');
    // the published notice is public: Caddy serves these copies when the portal is down
    expect(mode(publicDir(dataDir))).toBe('755');
    expect(Object.values(modesUnder(publicDir(dataDir)))).toEqual(['644', '644', '644', '644']);
  });
});
