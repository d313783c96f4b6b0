import fs from 'node:fs';
import { startTestPortal, tempDir, type TestPortal } from '../support/portal';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { makeReadOnly } from '../support/outages';
import { buildUser } from '../support/factories';
import { feature } from '../../src/features/backups';
import { evaluateAlerts } from '../../src/features/backups/service';
import { eventually as until } from '../support/eventually';
import { startBackground } from '../../src/jobs/runner';

describe('alerts: BACKUP_DIR turns read-only', () => {
  let portal: TestPortal;
  let sink: SmtpSink;
  let backupDir: string;
  let stop: (() => Promise<void>) | null = null;
  let undo: (() => void) | null = null;

  beforeAll(async () => {
    sink = await startSmtpSink();
    backupDir = tempDir('portal-backups-');
    portal = await startTestPortal({ SMTP_URL: sink.url, BACKUP_DIR: backupDir, MONITOR_INTERVAL_SECONDS: '1' });
    await buildUser(portal.ctx.knex, { is_superuser: true, is_staff: true, email: 'admin@example.com' });
    await buildUser(portal.ctx.knex, { is_superuser: true, is_active: false, email: 'former@example.com' });
    await buildUser(portal.ctx.knex, { email: 'someone@example.com' });
  });
  afterAll(async () => {
    undo?.();
    if (stop) await stop();
    await portal.close();
    await sink.close();
    fs.rmSync(backupDir, { recursive: true, force: true });
  });

  /** Runs the monitor's check three times, as its timer would (it mails from inside the check): none raises or clears anything. */
  async function quietChecks(): Promise<void> {
    for (let i = 0; i < 3; i += 1) expect(await evaluateAlerts(portal.ctx)).toEqual({ raised: [], cleared: [] });
  }

  it('mails the active superusers once while it lasts, then once when it clears', async () => {
    stop = await startBackground(portal.ctx, [feature]);
    await quietChecks(); // healthy: nothing to say
    expect(sink.messages).toHaveLength(0);

    undo = makeReadOnly(backupDir);
    const [alert] = await sink.waitFor(1);
    expect(alert!.envelopeTo).toEqual(['admin@example.com']);
    expect(alert!.parsed.subject).toContain('[TOYBOX ポータル 警告]');
    expect(alert!.parsed.subject).toContain('BACKUP_DIR に書き込めません');
    expect(alert!.parsed.text).toContain(backupDir);
    expect(alert!.parsed.text).toContain('BACKUP_DIR is not writable');
    expect(alert!.parsed.html).toContain('/admin/backups');

    // Three more checks run while it stays read-only: still one e-mail.
    await quietChecks();
    expect(sink.messages).toHaveLength(1);
    const open = await portal.ctx.knex('portal.alerts').whereNull('cleared_at');
    expect(open.map((a) => a.condition)).toEqual(['dir_readonly:BACKUP_DIR']);
    expect(open[0].notified_recipients).toBe(1);

    undo();
    undo = null;
    const mails = await sink.waitFor(2);
    expect(mails[1]!.parsed.subject).toContain('[TOYBOX ポータル 解消]');
    expect(mails[1]!.parsed.text).toContain('This problem has cleared.');
    await until(async () => (await portal.ctx.knex('portal.alerts').whereNull('cleared_at')).length === 0);
    await quietChecks();
    expect(sink.messages).toHaveLength(2);
  });
});
