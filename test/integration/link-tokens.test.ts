import crypto from 'node:crypto';
import { startTestPortal, csrfFrom, signedInAgent, type TestPortal } from '../support/portal';
import { buildUser } from '../support/factories';
import { confirmToken, unsubscribeToken } from '../../src/features/notice/subscribers';
import { upsertRequest } from '../../src/features/notice/subscribers-repo';
import { signedDownloadUrl } from '../../src/features/export/service';
import { insertLoginLink } from '../../src/features/export/repo';
import { signLink } from '../../src/features/campaigns/links/signed-links';
import { importCandidates } from '../../src/features/campaigns/addresses/service';
import { createCampaign } from '../../src/features/campaigns/lifecycle/service';
import { hashToken } from '../../src/features/claims/mail';
import { insertEmailToken } from '../../src/features/claims/mail-repo';
import { insertInvitation, markUsed } from '../../src/features/claims/invitations-repo';

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

  /** A form POST with the session's CSRF token (these routes are after sessions), as a browser would send it. */
  async function postForm(url: string, fields: Record<string, string> = {}, agent = portal.agent(), formPage = '/login') {
    const csrf = csrfFrom((await agent.get(formPage)).text);
    return agent.post(url).type('form').set('Accept', 'text/html').send({ _csrf: csrf, ...fields });
  }
  const DAY = 86400_000;
  const secret = () => portal.config.SESSION_SECRET;
  /** A well-formed token with one character of its MAC changed. */
  const forge = (token: string) => token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));

  it('campaign personal link /r/ (and its register/attach POSTs): malformed 400; forged, expired, no recipient 410 with the home page', async () => {
    await importCandidates(portal.ctx.knex, [{ line: 1, raw: 'come-back@example.jp', displayId: null }], 'test');
    const { id } = await createCampaign(portal.ctx.knex, { name: 'links', subject_ja: '再登録', text_ja: '{{link}}', rate_per_minute: 0, concurrency: 1 }, 'test');
    const recipient = await portal.ctx.knex('portal.campaign_recipients').where({ campaign_id: id }).first('id');
    const real = signLink(secret(), 'r', id, Number(recipient.id));
    expect((await get(`/r/${real}`)).status).toBe(200); // a genuine link still lands on its form

    for (const bad of ['abc', real.slice(0, -3), `${real}.x`]) {
      expectMalformed(await get(`/r/${bad}`));
      expectMalformed(await postForm(`/r/${bad}/register`));
      expectMalformed(await postForm(`/r/${bad}/attach`));
    }
    const dead = [
      forge(real),
      signLink(secret(), 'r', id, Number(recipient.id), Date.now() - 91 * DAY), // past its 90 days
      signLink(secret(), 'r', 987654, 987654), // genuine, but names no recipient
      signLink(secret(), 'u', id, Number(recipient.id)), // an unsubscribe token is not a personal link
    ];
    for (const token of dead) {
      expectGone(await get(`/r/${token}`), '/');
      expectGone(await postForm(`/r/${token}/register`, { username: 'x', password: 'y', terms: 'yes' }), '/');
      expectGone(await postForm(`/r/${token}/attach`, { login: 'x', password: 'y' }), '/');
    }
    const en = await get(`/r/${dead[0]}`, 'en');
    expect(en.text).toContain('re-register on TOYBOX');
  });

  it('campaign unsubscribe /u/: malformed 400; forged, expired, no recipient 410, the page and the RFC 8058 one-click POST alike', async () => {
    await importCandidates(portal.ctx.knex, [{ line: 1, raw: 'stop-me@example.jp', displayId: null }], 'test');
    const { id } = await createCampaign(portal.ctx.knex, { name: 'unsub', subject_ja: '再登録', text_ja: '{{link}}', rate_per_minute: 0, concurrency: 1 }, 'test');
    const recipient = await portal.ctx.knex('portal.campaign_recipients').where({ campaign_id: id }).first('id');
    const real = signLink(secret(), 'u', id, Number(recipient.id));

    // what a mailbox provider sends: a bare POST, no cookie, no CSRF token
    const oneClick = (token: string) => portal.agent().post(`/u/${token}`).type('form').send('List-Unsubscribe=One-Click');
    for (const bad of ['abc', real.slice(0, -3), `x.${real}`]) {
      expectMalformed(await get(`/u/${bad}`));
      expectMalformed(await oneClick(bad));
    }
    const dead = [
      forge(real),
      signLink(secret(), 'u', id, Number(recipient.id), Date.now() - 366 * DAY), // past its year
      signLink(secret(), 'u', 987654, 987654),
      signLink(secret(), 'r', id, Number(recipient.id)), // a personal link's token does not unsubscribe
    ];
    for (const token of dead) {
      expectGone(await get(`/u/${token}`), '/');
      expectGone(await oneClick(token), '/');
    }
    expect(await portal.ctx.knex('portal.suppressions').where({ email_key: 'stop-me@example.jp' })).toHaveLength(0);
    // a genuine link: the page 200, the one-click 200, and the page again 200 ("already unsubscribed"), as before
    expect((await get(`/u/${real}`)).status).toBe(200);
    expect((await oneClick(real)).status).toBe(200);
    expect((await get(`/u/${real}`)).status).toBe(200);
  });

  it('claims e-mail proof link /recover/email/ and its confirm POST: malformed 400; unknown or expired 410 with "ask again on /recover"', async () => {
    const u = await buildUser(portal.ctx.knex);
    const agent = await signedInAgent(portal, u.display_id, u.password);
    const html = (url: string) => agent.get(url).set('Accept', 'text/html');
    const confirm = (token: string) => postForm('/recover/email/confirm', { token }, agent, '/recover');

    for (const bad of ['abc', 'A'.repeat(42), `${'A'.repeat(43)}.`]) {
      expectMalformed(await html(`/recover/email/${bad}`));
      expectMalformed(await confirm(bad));
    }
    expectMalformed(await postForm('/recover/email/confirm', {}, agent, '/recover')); // the hidden field gone

    const unknown = crypto.randomBytes(32).toString('base64url');
    expectGone(await html(`/recover/email/${unknown}`), '/recover');
    expectGone(await confirm(unknown), '/recover');

    const late = crypto.randomBytes(32).toString('base64url');
    await insertEmailToken(portal.ctx.knex, { user_id: u.id, email: 'late@old.example', token_hash: hashToken(late), link_nonce: crypto.randomBytes(16).toString('base64url'), expires_at: new Date(Date.now() - 1000) });
    expectGone(await html(`/recover/email/${late}`), '/recover');
    expectGone(await confirm(late), '/recover');

    const live = crypto.randomBytes(32).toString('base64url');
    await insertEmailToken(portal.ctx.knex, { user_id: u.id, email: 'live@old.example', token_hash: hashToken(live), link_nonce: crypto.randomBytes(16).toString('base64url'), expires_at: new Date(Date.now() + 3600_000) });
    const page = await html(`/recover/email/${live}`);
    expect(page.status).toBe(200); // a live link opens its confirm page, as before
    expect(page.text).toContain(`name="token" value="${live}"`);
  });

  it('claims invitation /recover/invite/ and its POST: malformed 400; unknown, used or expired 410 with "ask the team"', async () => {
    const owner = await buildUser(portal.ctx.knex);
    const invitation = async (expiresAt: Date) => {
      const token = crypto.randomBytes(32).toString('base64url');
      const id = await insertInvitation(portal.ctx.knex, { user_id: owner.id, old_user_id: 4242, email: 'owner@old.example', token_hash: hashToken(token), link_nonce: crypto.randomBytes(16).toString('base64url'), created_by: 'test', expires_at: expiresAt });
      return { id, token };
    };
    const accept = (token: string) => postForm('/recover/invite', { token, password: 'whiskers-at-dawn', password2: 'whiskers-at-dawn' });

    for (const bad of ['abc', 'A'.repeat(44)]) {
      expectMalformed(await get(`/recover/invite/${bad}`));
      expectMalformed(await accept(bad));
    }
    expectMalformed(await postForm('/recover/invite', { password: 'whiskers-at-dawn', password2: 'whiskers-at-dawn' }));

    const unknown = crypto.randomBytes(32).toString('base64url');
    expectGone(await get(`/recover/invite/${unknown}`), '/');
    expectGone(await accept(unknown), '/');

    const expired = await invitation(new Date(Date.now() - 1000));
    expectGone(await get(`/recover/invite/${expired.token}`), '/');
    expectGone(await accept(expired.token), '/');

    const used = await invitation(new Date(Date.now() + 7 * DAY));
    expect((await get(`/recover/invite/${used.token}`)).status).toBe(200); // live: the password form, as before
    await markUsed(portal.ctx.knex, used.id);
    const gone = await get(`/recover/invite/${used.token}`, 'en');
    expectGone(gone, '/');
    expect(gone.text).toContain('new invitation');
    expectGone(await accept(used.token), '/');
  });
});
