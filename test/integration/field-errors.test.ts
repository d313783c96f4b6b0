import crypto from 'node:crypto';
import { startTestPortal, csrfFrom, signedInAgent, type TestPortal } from '../support/portal';
import { buildUser } from '../support/factories';

/**
 * The one error contract at the edge (src/http/validate.ts): forms moved onto
 * validate() re-render with 422 and each message beside its field in the
 * reader's language; non-form input gets the one error JSON (or page) from the
 * error handler, with every field named.
 */
const SECRET = 'w'.repeat(32);

describe('field errors, one shape everywhere', () => {
  let portal: TestPortal;
  let staff: Awaited<ReturnType<typeof signedInAgent>>;

  beforeAll(async () => {
    portal = await startTestPortal({ BOUNCE_WEBHOOK_SECRET: SECRET });
    const su = await buildUser(portal.ctx.knex, { is_staff: true, is_superuser: true });
    staff = await signedInAgent(portal, su.display_id, su.password);
  });
  afterAll(() => portal.close());

  it('export link request: a bad address is marked on its field, in Japanese and in English', async () => {
    for (const [lang, text] of [['ja', 'メールアドレスの形式が正しくありません。'], ['en', 'That does not look like an e-mail address.']] as const) {
      const agent = portal.agent();
      const page = await agent.get(`/export/link?lang=${lang}`);
      const res = await agent.post('/export/link').type('form').send({ _csrf: csrfFrom(page.text), email: 'not-an-address' });
      expect(res.status).toBe(422);
      expect(res.text).toContain(`<p class="field-error" id="email-error">${text}</p>`);
      expect(res.text).toMatch(/id="email"[^>]*aria-invalid="true" aria-describedby="email-error"/);
      expect(res.text).toContain('value="not-an-address"');
    }
  });

  it('staff export: an empty user is marked on its field', async () => {
    const page = await staff.get('/admin/export');
    const res = await staff.post('/admin/export').type('form').send({ _csrf: csrfFrom(page.text), user: '  ', format: 'zip' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('<p class="field-error" id="user-error">ユーザーを入力してください。</p>');
  });

  it('a form without its own page (recovery tick) answers 422 naming the field, as a page and as JSON', async () => {
    const page = await staff.get('/admin/recovery');
    const csrf = csrfFrom(page.text);
    const html = await staff.post('/admin/recovery/items/vps_snapshots/tick?lang=en').type('form').send({ _csrf: csrf, note: 'x'.repeat(201) });
    expect(html.status).toBe(422);
    expect(html.text).toContain('<li><code>note</code>: Use at most 200 characters.</li>');
    const json = await staff.post('/admin/recovery/items/vps_snapshots/tick?lang=ja').set('Accept', 'application/json').type('form').send({ _csrf: csrf, note: 'x'.repeat(201) });
    expect(json.status).toBe(422);
    expect(json.body.error).toMatchObject({ status: 422, code: 'recovery.errors.bad_tick', fields: { note: [{ code: 'errors.too_long', message: '200 文字以内で入力してください。' }] } });
  });

  it('the bounce webhook and the sign-in guard answer in the one JSON shape', async () => {
    const body = JSON.stringify({ events: 'not a list' });
    const ts = Math.floor(Date.now() / 1000);
    const sig = `sha256=${crypto.createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex')}`;
    const bad = await portal.agent().post('/webhooks/bounce').set('Content-Type', 'application/json').set({ 'X-Toybox-Timestamp': String(ts), 'X-Toybox-Signature': sig }).send(body);
    expect(bad.status).toBe(422);
    // The body is one event or { events: [...] }: matching neither is a problem of the whole body.
    expect(bad.body.error).toMatchObject({ status: 422, code: 'campaigns.webhook.bad_body', fields: { _form: [{ code: 'errors.invalid_field', message: 'この項目の値が正しくありません。' }] } });
    const unsigned = await portal.agent().post('/webhooks/bounce').set('Content-Type', 'application/json').send(body);
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error).toMatchObject({ status: 401, code: 'campaigns.webhook.bad_signature' });
    const anonymous = await portal.agent().get('/api/me/export?lang=ja');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toMatchObject({ status: 401, code: 'errors.sign_in_required', message: 'ログインしてください。' });
  });

  it('an invalid API query names the field and says what is allowed', async () => {
    const user = await buildUser(portal.ctx.knex);
    const agent = await signedInAgent(portal, user.display_id, user.password);
    const res = await agent.get('/api/me/export?format=rar&lang=en');
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('export.bad_format');
    expect(res.body.error.fields.format[0].code).toBe('export.bad_format');
  });
});
