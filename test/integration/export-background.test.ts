import fs from 'node:fs';
import { csrfFrom, tempDir, signedInAgent } from '../support/portal';
import { buildUser } from '../support/factories';
import { seedUserData, binaryParser, unzipChecked, countOwnedRows, type SeededUser } from '../support/export-seed';
import { feature } from '../../src/features/export';
import { workOwner } from '../../src/jobs/ownership';
import { usePortal, useTempDir } from '../support/portal-stack';

function linkIn(text: string, pattern: RegExp): string {
  const m = pattern.exec(text);
  if (!m) throw new Error(`no link in mail: ${text}`);
  return new URL(m[0]).pathname + new URL(m[0]).search;
}

describe('export: background jobs and e-mailed links', () => {
  const mediaDir = useTempDir('export-bg-media-');
  const web = usePortal({ smtp: true, env: { TOYBOX_MEDIA_DIR: mediaDir, EXPORT_BACKGROUND_ROWS: '10', EXPORT_COOLDOWN_HOURS: '24' }, background: [feature] });
  let a: SeededUser;

  beforeAll(async () => {
    a = await seedUserData(web.portal.ctx.knex, mediaDir, 'big');
  });

  const signIn = (login: string, password: string) => signedInAgent(web.portal, login, password);

  it('builds a large account in the background, mails a signed link, and refuses it once expired (file deleted)', async () => {
    const agent = await signIn(a.display_id, a.password);
    const page = await agent.get('/export');
    expect(page.text).toContain('メールでダウンロード用のリンクをお送りします');
    const res = await agent.post('/export').type('form').send({ _csrf: csrfFrom(page.text), format: 'zip' });
    expect(res.status).toBe(202);
    expect(res.text).toContain('バックグラウンドで準備します');

    const [mail] = await web.sink.waitFor(1, 30_000);
    expect(mail!.envelopeTo).toEqual([a.email]);
    expect(mail!.parsed.subject).toBe('【TOYBOX】データのダウンロードの準備ができました');
    expect(mail!.parsed.html).toBeTruthy();
    const link = linkIn(mail!.parsed.text ?? '', /http:\/\/\S+\/export\/download\/\S+/);

    const job = await web.portal.ctx.knex('portal.export_jobs').where({ user_id: a.id }).first();
    expect(job).toMatchObject({ status: 'done', mode: 'background' });
    expect(fs.existsSync(job.file_path)).toBe(true);
    expect(job.file_path.startsWith(`${web.portal.dataDir}/exports/`)).toBe(true);
    const days = (new Date(job.expires_at).getTime() - Date.now()) / 86400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);

    // the link works without signing in
    const download = await web.portal.agent().get(link).buffer(true).parse(binaryParser);
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toBe('application/zip');
    const dir = tempDir('export-bg-out-');
    try {
      const { test } = unzipChecked(download.body as Buffer, dir);
      expect(test).toMatch(/No errors detected/);
      const data = JSON.parse(fs.readFileSync(`${dir}/x/data.json`, 'utf8'));
      expect(data.counts).toEqual(await countOwnedRows(web.portal.ctx.knex, a.id));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect((await agent.get('/export')).text).toContain('/export/download/');

    const tampered = link.replace(/sig=[^&]+/, 'sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect((await web.portal.agent().get(tampered)).status).toBe(410); // a wrong signature is a dead link (src/http/links.ts)

    await web.portal.ctx.knex('portal.export_jobs').where({ id: job.id }).update({ expires_at: web.portal.ctx.knex.raw("now() - interval '1 second'") });
    const expired = await web.portal.agent().get(link);
    expect(expired.status).toBe(410);
    expect(expired.text).toContain('期限が切れています');
    expect(fs.existsSync(job.file_path)).toBe(false);
    expect((await web.portal.ctx.knex('portal.export_jobs').where({ id: job.id }).first()).status).toBe('expired');
  });

  it('queues a request made while another export is streaming', async () => {
    const u = await buildUser(web.portal.ctx.knex);
    const other = await buildUser(web.portal.ctx.knex);
    await web.portal.ctx.knex('portal.export_jobs').insert({
      id: '00000000-0000-4000-8000-0000000000aa', user_id: other.id, requested_by: 'test', counted: true, format: 'zip', mode: 'stream', status: 'running', lang: 'ja', started_at: new Date(),
      owner: (await workOwner(web.portal.ctx)).id, // streaming in this (live) process: a row without a live owner is reclaimed
    });
    try {
      const agent = await signIn(u.display_id, u.password);
      const res = await agent.get('/api/me/export?format=json');
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ status: 'queued', email: true });
      expect(res.body.message).toContain('ほかのエクスポートを処理中');
      await web.sink.waitFor(2, 30_000);
      const mail = web.sink.messages.find((m) => m.envelopeTo.includes(u.email))!;
      const download = await web.portal.agent().get(linkIn(mail.parsed.text ?? '', /http:\/\/\S+\/export\/download\/\S+/));
      expect(download.status).toBe(200);
      expect(download.body.user.id).toBe(u.id);
    } finally {
      await web.portal.ctx.knex('portal.export_jobs').where({ id: '00000000-0000-4000-8000-0000000000aa' }).delete();
    }
  });

  it('signs in by a one-time e-mailed link (15 minutes, single use) that allows an export only', async () => {
    const u = await buildUser(web.portal.ctx.knex);
    const before = web.sink.messages.length;
    const agent = web.portal.agent();
    const form = await agent.get('/export/link');
    const sent = await agent.post('/export/link').type('form').send({ _csrf: csrfFrom(form.text), email: u.email.toUpperCase() });
    expect(sent.status).toBe(200);
    expect(sent.text).toContain('ダウンロード用のリンクを送りました');
    const unknown = await agent.post('/export/link').type('form').send({ _csrf: csrfFrom(form.text), email: 'nobody@example.com' });
    expect(unknown.text).toContain('ダウンロード用のリンクを送りました');
    await web.sink.waitFor(before + 1, 10_000);
    const mail = web.sink.messages.slice(before).find((m) => m.envelopeTo.includes(u.email))!;
    expect(mail.parsed.subject).toBe('【TOYBOX】データのダウンロード用リンク');
    const link = linkIn(mail.parsed.text ?? '', /http:\/\/\S+\/export\/link\/[A-Za-z0-9_-]+/);
    const token = link.split('/').pop()!;
    const stored = await web.portal.ctx.knex('portal.export_login_links').where({ user_id: u.id }).first();
    expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.token_hash).not.toContain(token);
    const minutes = (new Date(stored.expires_at).getTime() - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(14);
    expect(minutes).toBeLessThanOrEqual(15);

    const browser = web.portal.agent();
    const confirm = await browser.get(link);
    expect(confirm.status).toBe(200);
    const signedIn = await browser.post(link).type('form').send({ _csrf: csrfFrom(confirm.text) });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.location).toBe('/export');
    const exportPage = await browser.get('/export');
    expect(exportPage.text).toContain('データのダウンロードだけができます');
    expect((await browser.get('/account')).status).toBe(303);
    expect((await browser.get('/admin')).status).toBe(303);
    const data = await browser.get('/api/me/export?format=json');
    expect(data.status).toBe(200);
    expect(data.body.user.id).toBe(u.id);

    // single use
    const second = web.portal.agent();
    const again = await second.get(link);
    expect(again.status).toBe(410);
    const form2 = await second.get('/export/link');
    expect((await second.post(link).type('form').send({ _csrf: csrfFrom(form2.text) })).status).toBe(410);

    // expired
    await agent.post('/export/link').type('form').send({ _csrf: csrfFrom(form.text), email: u.email });
    await web.sink.waitFor(before + 2, 10_000);
    const fresh = web.sink.messages.slice(before + 1).find((m) => m.envelopeTo.includes(u.email))!;
    const freshLink = linkIn(fresh.parsed.text ?? '', /http:\/\/\S+\/export\/link\/[A-Za-z0-9_-]+/);
    await web.portal.ctx.knex('portal.export_login_links').whereNull('used_at').update({ expires_at: web.portal.ctx.knex.raw("now() - interval '1 second'") });
    expect((await web.portal.agent().get(freshLink)).status).toBe(410);
  });
});
