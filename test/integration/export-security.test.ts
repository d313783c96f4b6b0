import crypto from 'node:crypto';
import { tokyoDay } from '../../src/i18n/tokyo-time';
import fs from 'node:fs';
import path from 'node:path';
import { startTestPortal, csrfFrom, tempDir, type TestPortal } from '../support/portal';
import { buildUser } from '../support/factories';
import { insertSubmissionRow } from '../../src/toybox/rows';
import { unzipChecked, binaryParser, writeMedia } from '../support/export-seed';

describe('export: media paths never leave TOYBOX_MEDIA_DIR', () => {
  let portal: TestPortal;
  let root: string;
  let mediaDir: string;
  let outside: string;
  const SECRET = 'OUTSIDE-THE-MEDIA-DIR-SECRET';

  beforeAll(async () => {
    root = tempDir('export-sec-');
    mediaDir = path.join(root, 'media');
    outside = path.join(root, 'outside');
    fs.mkdirSync(outside, { recursive: true });
    fs.writeFileSync(path.join(outside, 'secret.txt'), SECRET);
    writeMedia(mediaDir, 'submissions/ok.png');
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(mediaDir, 'submissions', 'link.png'));
    fs.symlinkSync(outside, path.join(mediaDir, 'escape'));
    portal = await startTestPortal({ TOYBOX_MEDIA_DIR: mediaDir, EXPORT_COOLDOWN_HOURS: '0' });
  });
  afterAll(async () => {
    await portal.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('includes the real file and refuses .., absolute paths and symlinks out', async () => {
    const u = await buildUser(portal.ctx.knex);
    const hostile = [
      { image: '../outside/secret.txt' },
      { image: 'submissions/../../outside/secret.txt' },
      { image: path.join(outside, 'secret.txt') },
      { image_url: `https://toybox.example/uploads/..%2f..%2foutside/secret.txt` },
      { image_url: '/uploads/../outside/secret.txt' },
      { image: 'submissions/link.png' },
      { image: 'escape/secret.txt' },
      { image_url: `file://${path.join(outside, 'secret.txt')}` },
    ];
    for (const [i, h] of hostile.entries()) await insertSubmissionRow(portal.ctx.knex, { author_id: u.id, title: `hostile ${i}`, ...h });
    await insertSubmissionRow(portal.ctx.knex, { author_id: u.id, title: 'fine', image: 'submissions/ok.png' });

    const agent = portal.agent();
    const page = await agent.get('/login');
    await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), login: u.email, password: u.password }).expect(303);
    const res = await agent.get('/api/me/export?format=zip').buffer(true).parse(binaryParser);
    expect(res.status).toBe(200);
    const dir = tempDir('export-sec-out-');
    try {
      const { files } = unzipChecked(res.body as Buffer, dir);
      expect(files.filter((f) => f.startsWith('media/'))).toEqual(['media/submissions/ok.png']);
      for (const f of files) expect(fs.readFileSync(path.join(dir, 'x', f), 'utf8')).not.toContain(SECRET);
      const missing = fs.readFileSync(path.join(dir, 'x', 'missing-media.txt'), 'utf8');
      expect(missing).toContain('refused\t../outside/secret.txt');
      expect(missing).toContain('refused\tsubmissions/link.png');
      expect(missing).toContain('refused\tescape/secret.txt');
      expect(missing).toContain(`refused\t${path.join(outside, 'secret.txt')}`);
      const data = JSON.parse(fs.readFileSync(path.join(dir, 'x', 'data.json'), 'utf8')) as { media: Array<{ source: string; path: string | null; status: string }> };
      const okSha = crypto.createHash('sha256').update(fs.readFileSync(path.join(mediaDir, 'submissions/ok.png'))).digest('hex');
      expect(data.media.filter((m) => m.status === 'included')).toEqual([{ source: 'submissions/ok.png', path: 'media/submissions/ok.png', status: 'included', sha256: okSha }]);
      for (const m of data.media.filter((x) => x.status === 'refused')) expect(m.path).toBeNull();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends a safe Content-Disposition for any display id', async () => {
    const u = await buildUser(portal.ctx.knex, { display_id: 'ゆう"; filename=evil.exe\\x', email: 'odd-name@example.com' });
    const agent = portal.agent();
    const page = await agent.get('/login');
    await agent.post('/login').type('form').send({ _csrf: csrfFrom(page.text), login: u.email, password: u.password }).expect(303);
    const res = await agent.get('/api/me/export?format=json');
    expect(res.status).toBe(200);
    const header = res.headers['content-disposition'] as string;
    const date = tokyoDay(new Date());
    expect(header).toBe(
      `attachment; filename="toybox-export-_____filename_evil.exe_x-${date}.json"; filename*=UTF-8''` +
        encodeURIComponent(`toybox-export-ゆう"; filename=evil.exe\\x-${date}.json`),
    );
    expect(res.body.user.display_id).toBe(u.display_id);
  });
});
