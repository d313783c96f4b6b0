import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { signedInAgent } from '../support/portal';
import { buildUser } from '../support/factories';
import { runCli } from '../support/cli';
import { outboxDir } from '../../src/mail/mailer';
import { renderEmail } from '../../src/mail/render';
import { translator } from '../../src/i18n';
import { streamRecipientsCsv } from '../../src/features/campaigns/lifecycle/recipients-csv';
import { exportFileName } from '../../src/features/export/archive';
import { createNotice } from '../../src/features/notice/service';
import { parseNoticeInput } from '../../src/features/notice/schema';
import { useTestPortal } from '../support/portal-stack';

// 15:30 UTC on the 22nd is half past midnight on the 23rd in Japan: a UTC date anywhere shows the wrong day.
const INSTANT = new Date('2026-01-22T15:30:00Z');
const JST = '2026-01-23 00:30 JST';

/** The page as read: tags (and their machine-readable datetime attributes) removed. */
const visibleText = (html: string) => html.replace(/<[^>]+>/g, ' ');

/** What a person in Japan reads for a moment, computed independently of the portal's formatter. */
function japanReading(d: Date): string {
  return `${new Date(d.getTime() + 9 * 3600_000).toISOString().slice(0, 16).replace('T', ' ')} JST`;
}

describe('times people read are Japan time, labelled, in every output', () => {
  const portal = useTestPortal();

  it('the export page lists earlier exports in Japan time, not UTC', async () => {
    const user = await buildUser(portal.ctx.knex);
    await portal.ctx.knex('portal.export_jobs').insert({
      id: '00000000-0000-4000-8000-000000000001', user_id: user.id, requested_by: 'self', format: 'zip', mode: 'stream', status: 'done', created_at: INSTANT,
    });
    const agent = await signedInAgent(portal, user.display_id, user.password);
    const page = await agent.get('/export');
    expect(page.status).toBe(200);
    expect(page.text).toContain(JST);
    expect(visibleText(page.text)).not.toMatch(/UTC|2026-01-22/);
  });

  it('the captured-mail viewer dates each message in Japan time', async () => {
    const staff = await buildUser(portal.ctx.knex, { is_staff: true });
    const dir = outboxDir(portal.dataDir);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'fixed.eml'),
      'From: TOYBOX <noreply@toybox.local>\r\nTo: a@example.jp\r\nSubject: fixed\r\nDate: Thu, 22 Jan 2026 15:30:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n',
    );
    const agent = await signedInAgent(portal, staff.display_id, staff.password);
    const list = await agent.get('/admin/mail/captured');
    expect(list.status).toBe(200);
    expect(list.text).toContain(JST);
    expect(visibleText(list.text)).not.toContain('2026-01-22T15:30');
    const one = await agent.get('/admin/mail/captured/fixed.eml');
    expect(one.text).toContain(JST);
  });

  it('the recipients CSV carries ISO 8601 with the +09:00 offset', async () => {
    const [c] = await portal.ctx.knex('portal.campaigns').insert({ name: 'csv', subject_ja: 's', text_ja: 't', created_by: 'test' }).returning('id');
    await portal.ctx.knex('portal.campaign_recipients').insert({ campaign_id: c.id, email: 'a@example.jp', email_key: 'a@example.jp', status: 'sent', sent_at: INSTANT });
    const out = new PassThrough();
    let csv = '';
    out.on('data', (d: Buffer) => (csv += d.toString()));
    await streamRecipientsCsv(portal.ctx.knex, Number(c.id), out);
    expect(csv).toContain(',2026-01-23T00:30:00+09:00,');
  });

  it('the archive is named after the day it is in Japan', () => {
    expect(exportFileName('taro', 'zip', INSTANT).utf8).toBe('toybox-export-taro-2026-01-23.zip');
  });

  it('`backup list` prints Japan time, labelled', async () => {
    await portal.ctx.knex('portal.backups').insert({ kind: 'database', status: 'good', started_at: INSTANT, finished_at: INSTANT });
    const r = await runCli(['backup', 'list'], { env: { DATABASE_URL: portal.db.url, DATA_DIR: portal.dataDir } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(JST);
    expect(r.stdout).not.toMatch(/15:30:00Z/);
  });

  it('alert e-mails say when in Japan time, labelled, in both parts', async () => {
    const alert = { condition: 'backup_failed', raised_at: INSTANT, details: { backup_id: 1, error: 'x' } };
    for (const state of ['raised', 'cleared']) {
      const mail = await renderEmail(`alert-${state}`, 'ja', { alert, kind: 'backup_failed', vars: { backup_id: '1', error: 'x' }, en: translator('en'), publicUrl: 'http://portal.example' });
      expect(mail.html).toContain(JST);
      expect(mail.text).toContain(JST);
    }
  });

  it('the status page prints publish times in Japan time, labelled', async () => {
    const r = parseNoticeInput({ kind: 'incident', severity: 'warning', title_ja: '遅延', body_ja: '調査中です' });
    if (!r.ok) throw new Error('bad notice input');
    const id = await createNotice(portal.ctx, r.value, { label: 'test', userId: null }, { publish: true });
    const row = await portal.ctx.knex('portal.notices').where({ id }).first('published_at');
    const page = await portal.agent().get('/status');
    expect(page.text).toContain(japanReading(row.published_at));
  });
});
