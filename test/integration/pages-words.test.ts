import { startTestPortal, signedInAgent, csrfFrom, type TestPortal } from '../support/portal';
import { buildUser } from '../support/factories';
import { onEachScreen, artifact } from '../support/browser';
import { ensureBootstrapToken } from '../../src/features/bootstrap/tokens';
import { insertRunningBackup, updateBackup } from '../../src/features/backups/repo';
import { importCandidates } from '../../src/features/campaigns/addresses/service';
import { createCampaign } from '../../src/features/campaigns/lifecycle/service';

/** What a person reads: the text between tags, without scripts, styles and attributes. */
function visibleText(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<code[^>]*>[\s\S]*?<\/code>/gi, ' ') // technical details are marked as such
    .replace(/<[^>]+>/g, ' ')
    .replace(/&[a-z]+;|&#\d+;/g, ' ')
    .replace(/\s+/g, ' ');
}

const RAW_STATES = ['draft', 'scheduled', 'sending', 'paused', 'completed', 'cancelled', 'running', 'good', 'suspect', 'bad', 'failed', 'pruned', 'queued', 'skipped'];

/** A state word standing alone as an element's whole text, as `<span>completed</span>`. */
function rawStatesIn(html: string): string[] {
  const found = new Set<string>();
  for (const m of html.matchAll(/>\s*([a-z_]+)\s*</g)) if (RAW_STATES.includes(m[1]!)) found.add(m[1]!);
  return [...found];
}

describe('pages speak the reader\'s language', () => {
  let portal: TestPortal;
  let pages: string[];
  beforeAll(async () => {
    portal = await startTestPortal();
    const knex = portal.ctx.knex;
    for (const status of ['good', 'failed', 'suspect'] as const) {
      const row = (await insertRunningBackup(knex, { kind: 'database', trigger: 'test', scheduled_for: null }))!;
      await updateBackup(knex, row.id, { status, row_counts: { users: 4, submissions: 15 }, total_bytes: 2048, offhost_exit_code: 0, error: status === 'failed' ? 'pg_dump exited with 1' : null, suspect_reasons: status === 'suspect' ? ['users: 9 -> 4 (-56%)'] : null });
    }
    await importCandidates(knex, [{ line: 1, raw: 'words@example.jp', lang: null, name: null }], 'test');
    const { id } = await createCampaign(knex, { name: 'words', subject_ja: '件名', text_ja: '{{link}}', rate_per_minute: 0, concurrency: 1 }, 'test');
    await knex('portal.campaigns').where({ id }).update({ status: 'completed' });
    pages = ['/admin', '/admin/backups', '/admin/campaigns', `/admin/campaigns/${id}`, '/admin/recovery'];
  });
  afterAll(() => portal?.close());

  it('English pages show words, never raw state names', async () => {
    const admin = await buildUser(portal.ctx.knex, { is_staff: true });
    const agent = await signedInAgent(portal, admin.display_id, admin.password);
    for (const url of pages) {
      const res = await agent.get(`${url}${url.includes('?') ? '&' : '?'}lang=en`);
      expect([url, res.status]).toEqual([url, 200]);
      expect([url, rawStatesIn(res.text)]).toEqual([url, []]);
    }
  });

  it('Japanese pages carry no English fragments such as "users 4 / submissions 15"', async () => {
    const admin = await buildUser(portal.ctx.knex, { is_staff: true });
    const agent = await signedInAgent(portal, admin.display_id, admin.password);
    for (const url of pages) {
      const res = await agent.get(`${url}?lang=ja`);
      const text = visibleText(res.text);
      expect([url, text.match(/\b(users|submissions|files|exit|passed|failed|open|none)\b/gi)]).toEqual([url, null]);
      expect([url, rawStatesIn(res.text)]).toEqual([url, []]);
    }
    const backups = visibleText((await agent.get('/admin/backups?lang=ja')).text);
    expect(backups).toContain('ユーザー 4 人 / 投稿 15 件');
  });

  it('the dashboard\'s backup panel tells of a suspect backup once, not again in the alert list', async () => {
    const { evaluateAlerts } = await import('../../src/features/backups/alerts');
    await evaluateAlerts(portal.ctx);
    const admin = await buildUser(portal.ctx.knex, { is_staff: true });
    const agent = await signedInAgent(portal, admin.display_id, admin.password);
    const text = visibleText((await agent.get('/admin?lang=en')).text);
    const panel = text.slice(text.indexOf('Backups and monitoring'), text.indexOf('See backup details'));
    expect(panel.match(/A backup needs checking/g)).toHaveLength(1);
    expect(panel).not.toContain('Possible data loss');
    expect(panel).not.toContain('Open alerts');
  });

  it('the dashboard\'s backup panel says "no backups yet" once, not three ways', async () => {
    await portal.ctx.knex('portal.backups').delete();
    const admin = await buildUser(portal.ctx.knex, { is_staff: true });
    const agent = await signedInAgent(portal, admin.display_id, admin.password);
    const text = visibleText((await agent.get('/admin?lang=en')).text);
    const panel = text.slice(text.indexOf('Backups and monitoring'), text.indexOf('See backup details'));
    expect(panel).toContain('No backups yet.');
    expect(panel).not.toContain('There is no good backup yet');
    expect(panel).not.toContain('None yet');
  });

  it('a wrong setup token is flagged on the token field itself', async () => {
    expect(await ensureBootstrapToken(portal.ctx)).toBe('issued'); // a real token exists; the one typed is not it
    const agent = portal.agent();
    const page = await agent.get('/setup?lang=en');
    const res = await agent.post('/setup').type('form').send({ _csrf: csrfFrom(page.text), token: 'wrong-token-000000000000', email: 'root@example.jp', display_id: 'root_admin', password: 'a long enough passphrase 2026', password_confirm: 'a long enough passphrase 2026' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    const input = /<input id="token"[^>]*>/.exec(res.text)![0];
    expect(input).toContain('aria-invalid="true"');
    expect(input).toMatch(/aria-describedby="token-error /);
    // The message sits right under the field, before its hint.
    expect(res.text).toMatch(/<input id="token"[^>]*>\s*<p class="field-error" id="token-error">[^<]+<\/p>\s*<p class="hint" id="token-hint">/);
    expect((await agent.get('/setup?lang=en')).status).toBe(200);
  });

  it('in Chromium, the wrong token is marked on its field (ja desktop, en phone)', async () => {
    const base = await portal.listen();
    await onEachScreen(async (page, lang, device) => {
      await page.goto(`${base}/setup?lang=${lang}`);
      await page.locator('#token').fill('wrong-token-000000000000');
      await page.locator('#email').fill('root@example.jp');
      await page.locator('#display_id').fill('root_admin');
      await page.locator('#password').fill('a long enough passphrase 2026');
      await page.locator('#password_confirm').fill('a long enough passphrase 2026');
      await page.locator('form[action="/setup"] button[type="submit"]').click();
      await page.waitForSelector('#token-error');
      await expect(page.locator('#token-error').textContent()).resolves.toMatch(lang === 'ja' ? /設定トークンが正しくありません/ : /This setup token is not valid/);
      await expect(page.locator('#token').getAttribute('aria-invalid')).resolves.toBe('true');
      const [field, message] = await Promise.all([page.locator('#token').boundingBox(), page.locator('#token-error').boundingBox()]);
      expect(message!.y - (field!.y + field!.height)).toBeLessThan(40); // right under the field
      await page.locator('#token').scrollIntoViewIfNeeded();
      await page.screenshot({ path: artifact(`setup-wrong-token-${lang}-${device}.png`) });
    });
  }, 60_000);
});
