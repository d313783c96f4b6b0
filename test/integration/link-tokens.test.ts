import crypto from 'node:crypto';
import { startTestPortal, csrfFrom, type TestPortal } from '../support/portal';
import { buildUser } from '../support/factories';
import { confirmToken, unsubscribeToken } from '../../src/features/notice/subscribers';
import { upsertRequest } from '../../src/features/notice/subscribers-repo';
import { signedDownloadUrl } from '../../src/features/export/service';
import { insertLoginLink } from '../../src/features/export/repo';

/**
 * The one rule for tokens in e-mailed links (src/http/links.ts), walked over every route that follows it:
 * malformed -> 400 "this link is incomplete"; well-formed but unknown, used or expired -> 410 "this link no longer
 * works" with what to do next; both pages in Japanese and English.
 */
const MALFORMED_JA = 'リンクが途中で切れています';
const MALFORMED_EN = 'This link is incomplete';
const GONE_JA = 'このリンクはもう使えません';
const GONE_EN = 'This link no longer works';

describe('links from e-mails: one answer for a malformed, unknown, used or expired token', () => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal();
  });
  afterAll(() => portal.close());

  function expectMalformed(res: { status: number; text: string }) {
    expect(res.status).toBe(400);
    expect(res.text).toContain(MALFORMED_JA);
    expect(res.text).toContain(MALFORMED_EN);
  }
  function expectGone(res: { status: number; text: string }, next: string) {
    expect(res.status).toBe(410);
    expect(res.text).toContain(GONE_JA);
    expect(res.text).toContain(GONE_EN);
    expect(res.text).toContain(`href="${next}"`);
    expect(res.text).not.toMatch(/at .+\.(ts|js):\d+/);
  }
  const get = (url: string, lang = 'ja') => portal.agent().get(`${url}${url.includes('?') ? '&' : '?'}lang=${lang}`).set('Accept', 'text/html');
  const post = (url: string) => portal.agent().post(url).type('form').set('Accept', 'text/html').send({});

  async function pendingSubscriber(email: string, expiresAt = new Date(Date.now() + 3600_000)) {
    const nonce = crypto.randomBytes(16).toString('base64url');
    const row = await upsertRequest(portal.ctx.knex, { email, email_key: email, lang: 'ja', nonce, expiresAt });
    return { row, link: `/status/subscribe/confirm/${confirmToken(portal.ctx, row.id, nonce)}` };
  }

  it('notice subscription confirm: malformed 400; forged, expired and used 410 with "subscribe again"', async () => {
    for (const bad of ['abc', '12.short.sig', `1.${'A'.repeat(22)}.${'B'.repeat(42)}`]) {
      expectMalformed(await get(`/status/subscribe/confirm/${bad}`));
      expectMalformed(await post(`/status/subscribe/confirm/${bad}`));
    }
    const { link } = await pendingSubscriber('confirm-me@example.jp');
    const forged = `${link.slice(0, -3)}AAA`;
    expectGone(await get(forged), '/status/subscribe');
    expectGone(await post(forged), '/status/subscribe');

    const expired = await pendingSubscriber('late@example.jp', new Date(Date.now() - 1000));
    expectGone(await get(expired.link), '/status/subscribe');
    expectGone(await post(expired.link), '/status/subscribe');

    expect((await post(link)).status).toBe(200);
    const used = await get(link, 'en');
    expectGone(used, '/status/subscribe');
    // the reader's language first: the English heading comes before the Japanese one
    expect(used.text.indexOf(GONE_EN)).toBeLessThan(used.text.indexOf(GONE_JA));
    expect(used.text).toContain('Subscribe again');
    expectGone(await post(link), '/status/subscribe');
  });

  it('notice unsubscribe: malformed 400; a genuine link for a subscription that no longer exists 410', async () => {
    expectMalformed(await get('/status/unsubscribe/abc'));
    expectMalformed(await post('/status/unsubscribe/1.tooshort'));
    const gone = `/status/unsubscribe/${unsubscribeToken(portal.ctx, 987654)}`;
    expectGone(await get(gone), '/status');
    expectGone(await post(gone), '/status'); // RFC 8058 one-click posts get the same answer
  });

  it('export download: malformed id or query 400; wrong signature or unknown archive 410 with "export again"', async () => {
    const real = signedDownloadUrl(portal.ctx, { id: crypto.randomUUID(), expires_at: new Date(Date.now() + 3600_000) }).replace(/^https?:\/\/[^/]+/, '');
    expectMalformed(await get('/export/download/not-a-uuid?expires=1&sig=AAAAAAAAAAAAAAAAAAAAAAAA'));
    expectMalformed(await get(real.replace(/&sig=.*/, '')));
    expectMalformed(await get(real.replace(/expires=\d+/, 'expires=soon')));
    expectGone(await get(real), '/export');
    expectGone(await get(real.replace(/sig=[^&]+/, 'sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')), '/export');
    const json = await portal.agent().get(real).set('Accept', 'application/json');
    expect(json.status).toBe(410);
    expect(json.body.error).toMatchObject({ status: 410, code: 'errors.link.gone_text', next: '/export' });
  });

  it('export sign-in link: malformed 400; unknown, used and expired 410 with "get a new link"', async () => {
    expectMalformed(await get('/export/link/abc'));
    const unknown = `/export/link/${crypto.randomBytes(32).toString('base64url')}`;
    expectGone(await get(unknown), '/export/link');

    const u = await buildUser(portal.ctx.knex);
    const token = crypto.randomBytes(32).toString('base64url');
    await insertLoginLink(portal.ctx.knex, u.id, crypto.createHash('sha256').update(token).digest('hex'), 15);
    const agent = portal.agent();
    const page = await agent.get(`/export/link/${token}`).expect(200);
    expect((await agent.post(`/export/link/${token}`).type('form').send({ _csrf: csrfFrom(page.text) })).status).toBe(303);
    expectGone(await get(`/export/link/${token}`), '/export/link');

    const late = crypto.randomBytes(32).toString('base64url');
    await insertLoginLink(portal.ctx.knex, u.id, crypto.createHash('sha256').update(late).digest('hex'), -1);
    expectGone(await get(`/export/link/${late}`), '/export/link');
  });
});
