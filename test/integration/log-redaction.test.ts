import fs from 'node:fs';
import path from 'node:path';
import { startTestPortal, csrfFrom, type TestPortal } from '../support/portal';
import { buildUser } from '../support/factories';
import { logger, captureLogs } from '../../src/logger';
import { mailExportLoginLink } from '../../src/features/export/service';
import { signLink } from '../../src/features/campaigns/links/signed-links';
import { outboxDir } from '../../src/mail/mailer';
import { redactRequestPath } from '../../src/http/redact-url';

/** Issue 14, point 6: one-time tokens in paths must never reach a log line, from the confirmation page to the POST that spends them. */
describe('tokens never reach the access log', () => {
  let portal: TestPortal;
  let lines: string[];
  let restore: () => void;
  let level: string;

  beforeAll(async () => {
    portal = await startTestPortal();
  });
  beforeEach(() => {
    lines = [];
    level = logger.level;
    logger.level = 'info';
    restore = captureLogs({ write: (line: string) => lines.push(line) });
  });
  afterEach(() => {
    restore();
    logger.level = level;
  });
  afterAll(() => portal.close());

  it('keeps the e-mailed export link out of the log for its page and its POST, while the request is still logged', async () => {
    const user = await buildUser(portal.ctx.knex, { email: `log-${Date.now()}@example.com` });
    await mailExportLoginLink(portal.ctx, user.id, 'en');
    const eml = fs.readdirSync(outboxDir(portal.dataDir)).map((f) => fs.readFileSync(path.join(outboxDir(portal.dataDir), f), 'utf8')).join('\n');
    const token = /\/export\/link\/([A-Za-z0-9_-]{43})/.exec(eml.replace(/=\r?\n/g, ''))![1]!;

    const browser = portal.agent();
    const page = await browser.get(`/export/link/${token}`);
    expect(page.status).toBe(200);
    const spent = await browser.post(`/export/link/${token}`).type('form').send({ _csrf: csrfFrom(page.text) });
    expect(spent.status).toBe(303);
    const again = await browser.get(`/export/link/${token}?lang=en`);
    expect(again.status).toBe(410);

    const log = lines.join('');
    expect(log).toContain('"path":"/export/link/[redacted]"');
    expect(lines.filter((l) => l.includes('/export/link/[redacted]'))).toHaveLength(3);
    expect(log).not.toContain(token);
  });

  it('keeps personal campaign links (/r/, /u/) out of the log, GET and POST', async () => {
    const r = signLink(portal.config.SESSION_SECRET, 'r', 1, 1);
    const u = signLink(portal.config.SESSION_SECRET, 'u', 1, 1);
    await portal.agent().get(`/r/${r}`);
    await portal.agent().get(`/u/${u}`);
    await portal.agent().post(`/u/${u}`).type('form').send({ 'List-Unsubscribe': 'One-Click' });
    const log = lines.join('');
    expect(log).toContain('"path":"/r/[redacted]"');
    expect(lines.filter((l) => l.includes('"path":"/u/[redacted]"'))).toHaveLength(2);
    for (const token of [r, u]) {
      expect(log).not.toContain(token);
      expect(log).not.toContain(token.split('.').pop()); // not even the signature part
    }
  });

  it('redacts signed query strings and any other token-like path segment', async () => {
    await portal.agent().get('/export/download/123?expires=9999999999&sig=abcdefabcdefabcdefabcdef0123456789');
    await portal.agent().get('/admin/campaigns/import/0123456789abcdef01234567/map');
    const log = lines.join('');
    expect(log).not.toContain('abcdefabcdefabcdefabcdef');
    expect(log).not.toContain('0123456789abcdef01234567');
    expect(log).toContain('"path":"/export/download/123"');
    expect(redactRequestPath('/admin/campaigns/12/retry-failed')).toBe('/admin/campaigns/12/retry-failed');
  });
});
