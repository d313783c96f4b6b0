import { startTestPortal, csrfFrom, type TestPortal } from '../support/portal';
import { startFakeToybox, type FakeToybox } from '../support/fake-toybox';
import { buildUser } from '../support/factories';
import { importCandidates } from '../../src/features/campaigns/addresses/service';
import { createCampaign, campaignProgress, getCampaign } from '../../src/features/campaigns/lifecycle/service';
import { signLink } from '../../src/features/campaigns/links/signed-links';

let portal: TestPortal;
let toybox: FakeToybox;

beforeAll(async () => {
  toybox = await startFakeToybox({ allowedHosts: ['toybox.example'], iterations: 1000 });
  // The API is called at an internal address; the public name travels in Host (Django's ALLOWED_HOSTS).
  portal = await startTestPortal({ TOYBOX_URL: 'https://toybox.example', TOYBOX_API_URL: toybox.url });
  toybox.useDatabase(portal.db.url);
});
afterAll(async () => {
  await toybox.close();
  await portal.close();
});

const knex = () => portal.ctx.knex;

/** A campaign over the given imported people; returns each person's personal link path. */
async function campaignFor(people: Array<{ email: string; displayId?: string }>) {
  await importCandidates(knex(), people.map((p, i) => ({ line: i + 1, raw: p.email, displayId: p.displayId ?? null })), 'test');
  const { id } = await createCampaign(knex(), { name: `c-${Date.now()}`, subject_ja: '再登録', text_ja: '{{link}}', rate_per_minute: 0, concurrency: 1 }, 'test');
  const rows = await knex()('portal.campaign_recipients').where({ campaign_id: id }).select('id', 'email');
  const links = Object.fromEntries(rows.map((r) => [r.email, `/r/${signLink(portal.config.SESSION_SECRET, 'r', id, Number(r.id))}`]));
  return { id, links: links as Record<string, string> };
}

async function openForm(path: string, lang = 'ja') {
  const agent = portal.agent();
  const page = await agent.get(path).set('Accept-Language', lang).expect(200);
  return { agent, page, csrf: csrfFrom(page.text) };
}

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&#34;|&quot;/g, '"').replace(/&#39;/g, "'").replace(/\s+/g, ' ');

describe('re-registration from the personal link, through TOYBOX\'s own register API', () => {
  it('registers with the proven address, TOYBOX writes its rows, the old id is suggested, and the funnel counts the person', async () => {
    const { id, links } = await campaignFor([{ email: 'Hanako@Example.JP', displayId: 'hanako_old' }]);
    const { agent, page, csrf } = await openForm(links['Hanako@example.jp']!);
    expect(page.text).toContain('value="hanako_old"'); // the old id, suggested
    expect(text(page.text)).toContain('以前のID「hanako_old」はあなたのために確保してあります。');
    expect(page.text).toContain('href="https://toybox.example/terms/"');

    const res = await agent
      .post(`${links['Hanako@example.jp']}/register`)
      .type('form')
      .send({ _csrf: csrf, username: 'Hanako_Old', display_name: '花子', password: 'kirakira-2026', terms: 'yes' })
      .expect(200);
    expect(text(res.text)).toContain('ユーザーID「hanako_old」で TOYBOX のアカウントを作りました。メールアドレス Hanako@example.jp も登録されています。');
    expect(toybox.requests.at(-1)).toMatchObject({ method: 'POST', path: '/api/auth/register/', host: 'toybox.example' });

    const user = await knex()('users').where({ display_id: 'hanako_old' }).first();
    expect(user).toMatchObject({ email: 'Hanako@example.jp', role: 'FREE_USER', is_active: true, is_staff: false, is_suspended: false });
    expect(user.password).toMatch(/^pbkdf2_sha256\$1000\$/);
    const meta = await knex()('user_meta').where({ user_id: user.id }).first();
    expect(meta).toMatchObject({ bio: '花子', display_name: '', header_url: '', earned_titles: [], notifications: [], onboarding_completed: {} });
    expect(await knex()('point_history').where({ user_id: user.id }).select('action_type', 'points')).toEqual([{ action_type: 'registration_bonus', points: 100 }]);

    const p = await campaignProgress(knex(), (await getCampaign(knex(), id))!);
    expect(p).toMatchObject({ clicked: 1, reregistered: 1 });
    const audit = await knex()('portal.audit_log').where({ action: 'campaigns.reregistered' }).first();
    expect(audit).toBeTruthy();

    // Coming back to the link: the account exists, nothing to register twice.
    const again = await portal.agent().get(links['Hanako@example.jp']!).expect(200);
    expect(text(again.text)).toContain('Hanako@example.jp のアカウントはすでに TOYBOX にあります。');
    expect(again.text).not.toContain('/register"');
  });

  it('shows TOYBOX\'s refusals beside the fields in the reader\'s language (taken id, short password)', async () => {
    await buildUser(knex(), { display_id: 'taro', email: 'taro.y@example.org' });
    const { links } = await campaignFor([{ email: 'taro@example.com' }]);
    const path = links['taro@example.com']!;
    const ja = await openForm(path);
    const taken = await ja.agent.post(`${path}/register`).type('form').send({ _csrf: ja.csrf, username: 'taro', display_name: '', password: 'long-enough-pw', terms: 'yes' }).expect(422);
    expect(taken.text).toMatch(/<p class="field-error" id="username-error">このユーザーIDはすでに使われています。別のIDを選んでください。<\/p>/);
    expect(taken.text).toContain('aria-invalid="true"');

    const en = await openForm(path, 'en');
    const weak = await en.agent.post(`${path}/register`).set('Accept-Language', 'en').type('form').send({ _csrf: en.csrf, username: 'taro2', password: 'short', terms: 'yes' }).expect(422);
    expect(weak.text).toMatch(/<p class="field-error" id="password-error">This password is too short\. Use at least 8 characters\.<\/p>/);
    expect(weak.text).toContain('value="taro2"'); // what was typed stays
    const bad = await en.agent.post(`${path}/register`).set('Accept-Language', 'en').type('form').send({ _csrf: en.csrf, username: 'ta ro!', password: 'long-enough-pw', terms: 'yes' }).expect(422);
    expect(bad.text).toContain('A user ID may contain only letters, digits and underscores (_).');
    const noTerms = await en.agent.post(`${path}/register`).set('Accept-Language', 'en').type('form').send({ _csrf: en.csrf, username: 'taro3', password: 'long-enough-pw' }).expect(422);
    expect(noTerms.text).toContain('You need to agree to the terms of use to register.');
    expect(await knex()('users').where({ email: 'taro@example.com' }).first()).toBeUndefined();
  });

  it('holds an old display id for its owner: nobody else gets it through the portal', async () => {
    const { links } = await campaignFor([{ email: 'owner@example.com', displayId: 'kept_id' }, { email: 'other@example.com' }]);
    const before = toybox.requests.length;
    const other = await openForm(links['other@example.com']!);
    const res = await other.agent
      .post(`${links['other@example.com']}/register`)
      .type('form')
      .send({ _csrf: other.csrf, username: 'KEPT_ID', password: 'long-enough-pw', terms: 'yes' })
      .expect(422);
    expect(res.text).toContain('このユーザーIDは以前の持ち主のために確保されています。');
    expect(toybox.requests.length).toBe(before); // TOYBOX was never asked
    const owner = await openForm(links['owner@example.com']!);
    await owner.agent.post(`${links['owner@example.com']}/register`).type('form').send({ _csrf: owner.csrf, username: 'kept_id', password: 'long-enough-pw', terms: 'yes' }).expect(200);
    expect(await knex()('users').where({ display_id: 'kept_id' }).first('email')).toEqual({ email: 'owner@example.com' });
  });

  it('attaches the proven address to an account TOYBOX made with a placeholder, and never replaces a real address', async () => {
    // As TOYBOX's own /signup/ page does it: no e-mail field, so TOYBOX stores <id>@toybox.local.
    expect(await toybox.signUpAsToyboxPage({ username: 'Jiro', display_name: 'じろう', password: 'jiro-password-1' })).toBe(201);
    expect(await knex()('users').where({ display_id: 'jiro' }).first('email')).toEqual({ email: 'jiro@toybox.local' });

    const { id: campaignId, links } = await campaignFor([{ email: 'jiro@example.net' }, { email: 'real@example.net' }]);
    const path = links['jiro@example.net']!;
    const funnel = async () => (await campaignProgress(knex(), (await getCampaign(knex(), campaignId))!)).reregistered;
    const before = await funnel(); // the campaign also holds earlier tests' people
    const f = await openForm(path);
    const wrong = await f.agent.post(`${path}/attach`).type('form').send({ _csrf: f.csrf, login: 'jiro', password: 'nope-nope' }).expect(401);
    expect(wrong.text).toContain('ユーザーIDかパスワードが違います。');
    const ok = await f.agent.post(`${path}/attach`).type('form').send({ _csrf: f.csrf, login: 'jiro', password: 'jiro-password-1' }).expect(200);
    expect(text(ok.text)).toContain('アカウント「jiro」に jiro@example.net を登録しました。');
    const jiro = await knex()('users').where({ display_id: 'jiro' }).first('id', 'email');
    expect(jiro.email).toBe('jiro@example.net');
    const audit = await knex()('portal.audit_log').where({ action: 'campaigns.address_attached' }).first();
    expect(audit).toMatchObject({ actor: `user:${jiro.id}:jiro`, target: `user:${jiro.id}` });
    // The person can be mailed again, and the funnel sees their return.
    expect(await funnel()).toBe(before + 1);

    // Someone with a real address cannot have it swapped for another through a link.
    const real = await buildUser(knex(), { display_id: 'realperson', email: 'mine@example.org' });
    const g = await openForm(links['real@example.net']!);
    const refused = await g.agent.post(`${links['real@example.net']}/attach`).type('form').send({ _csrf: g.csrf, login: 'realperson', password: real.password }).expect(409);
    expect(refused.text).toContain('このアカウントにはすでにメールアドレスが登録されています。');
    expect(await knex()('users').where({ id: real.id }).first('email')).toEqual({ email: 'mine@example.org' });
  });

  it('refuses a POST without the form\'s CSRF token and limits attempts per link', async () => {
    const { links } = await campaignFor([{ email: 'limit@example.com' }]);
    const path = links['limit@example.com']!;
    const noCsrf = await portal.agent().post(`${path}/register`).type('form').send({ username: 'limit', password: 'long-enough-pw', terms: 'yes' });
    expect(noCsrf.status).toBe(403);
    const f = await openForm(path);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      statuses.push((await f.agent.post(`${path}/register`).type('form').send({ _csrf: f.csrf, username: 'limit', password: 'x' })).status);
    }
    expect(statuses.slice(0, 9).every((s) => s === 422)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });

  it('offers TOYBOX\'s own sign-up page when its API is down (maintenance, then refused connections)', async () => {
    const { links } = await campaignFor([{ email: 'down@example.com' }, { email: 'down2@example.com' }]);
    await knex()('site_maintenance').insert({ enabled: true, message: 'maintenance', scheduled_end: null, updated_at: knex().fn.now() });
    const f = await openForm(links['down@example.com']!);
    const res = await f.agent.post(`${links['down@example.com']}/register`).type('form').send({ _csrf: f.csrf, username: 'downer', password: 'long-enough-pw', terms: 'yes' }).expect(503);
    expect(res.text).toContain('TOYBOX にいま接続できないため');
    expect(res.text).toContain('href="https://toybox.example/signup/"');
    expect(res.text).toContain('value="downer"');
    await knex()('site_maintenance').delete();

    await toybox.close(); // nothing listens at TOYBOX_API_URL any more
    const g = await openForm(links['down2@example.com']!);
    const refused = await g.agent.post(`${links['down2@example.com']}/register`).type('form').send({ _csrf: g.csrf, username: 'downer2', password: 'long-enough-pw', terms: 'yes' }).expect(503);
    expect(refused.text).toContain('href="https://toybox.example/signup/"');
    toybox = { ...toybox, close: async () => undefined };
  });
});
