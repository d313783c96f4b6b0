import crypto from 'node:crypto';
import path from 'node:path';
import fs from 'node:fs';
import type { ReceivedMail } from '../support/smtp-sink';
import { usePortal } from '../support/portal-stack';
import { buildUser } from '../support/factories';
import { importCandidates } from '../../src/features/campaigns/addresses/service';
import { createCampaign, startSending, resumeCampaign, campaignProgress, getCampaign } from '../../src/features/campaigns/lifecycle/service';
import { runCampaign } from '../../src/features/campaigns/sending/sender';
import { importBounceMbox } from '../../src/features/campaigns/bounces/service';
import { suppressAddress } from '../../src/features/campaigns/addresses/suppressions';

const SECRET = 'bounce-secret-0123456789';
const web = usePortal({ smtp: true, env: { PUBLIC_URL: 'https://portal.example', MAIL_FROM: 'TOYBOX <noreply@toybox.example>', BOUNCE_WEBHOOK_SECRET: SECRET } });
beforeEach(async () => {
  web.sink.messages.length = 0;
  web.sink.failWith(null);
  await web.portal.ctx.knex.raw('TRUNCATE portal.addresses, portal.campaigns, portal.campaign_recipients, portal.suppressions, portal.bounce_events');
});

const TEXT_JA = '{{display_name}} 様\n\nTOYBOX のアカウントを作り直してください:\n{{link}}\n';
const TEXT_EN = 'Dear {{display_name}},\n\nPlease sign up again:\n{{link}}\n';

async function setup(people: Array<{ email: string; lang?: string; name?: string }>, extra: Record<string, unknown> = {}) {
  await importCandidates(web.portal.ctx.knex, people.map((p, i) => ({ line: i + 1, raw: p.email, lang: p.lang ?? null, name: p.name ?? null })), 'test');
  const { id } = await createCampaign(
    web.portal.ctx.knex,
    { name: 'welcome back', subject_ja: 'TOYBOX 再登録のお願い', text_ja: TEXT_JA, subject_en: 'Please come back to TOYBOX', text_en: TEXT_EN, rate_per_minute: 0, concurrency: 2, ...extra },
    'test',
  );
  return id;
}

const byRecipient = (msgs: ReceivedMail[]) => {
  const m = new Map<string, number>();
  for (const x of msgs) for (const to of x.envelopeTo) m.set(to, (m.get(to) ?? 0) + 1);
  return m;
};

const pathOf = (url: string) => new URL(url).pathname;

describe('sending a campaign through a real SMTP server', () => {
  it('sends each recipient one message with both parts, encoded Japanese subject and RFC 8058 headers', async () => {
    const id = await setup([{ email: 'hanako@example.jp', name: '山田花子' }, { email: 'tom@example.com', lang: 'en' }, { email: 'back@example.jp' }, { email: 'blocked@example.jp' }]);
    await buildUser(web.portal.ctx.knex, { email: 'back@example.jp' }); // came back before we sent: skipped at send time
    await suppressAddress(web.portal.ctx.knex, 'blocked@example.jp', 'manual');
    await startSending(web.portal.ctx.knex, id, 'test');
    expect(await runCampaign(web.portal.ctx, id)).toBe('completed');

    expect([...byRecipient(web.sink.messages).entries()].sort()).toEqual([['hanako@example.jp', 1], ['tom@example.com', 1]]);
    const ja = web.sink.messages.find((m) => m.envelopeTo[0] === 'hanako@example.jp')!;
    expect(ja.parsed.subject).toBe('TOYBOX 再登録のお願い');
    expect(ja.raw).toMatch(/^Subject: =\?UTF-8\?[BQ]\?/m);
    expect(ja.parsed.text).toContain('山田花子 様');
    expect(ja.parsed.html).toContain('山田花子 様');
    expect(ja.parsed.text).toMatch(/https:\/\/portal\.example\/r\/[\w.-]+/);
    expect(ja.parsed.html).not.toMatch(/<img/i); // no tracking pixel
    expect(ja.raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    const lu = /List-Unsubscribe:\s*([\s\S]*?)\r?\n(?=\S)/.exec(ja.raw)![1]!.replace(/\s+/g, ' ');
    expect(lu).toMatch(/^<https:\/\/portal\.example\/u\/[\w.-]+>, <mailto:unsubscribe@toybox\.example\?subject=unsubscribe%20[\w.-]+>$/);
    const row = await web.portal.ctx.knex('portal.campaign_recipients').where({ email_key: 'hanako@example.jp' }).first();
    expect(ja.parsed.messageId).toBe(row.message_id);

    const en = web.sink.messages.find((m) => m.envelopeTo[0] === 'tom@example.com')!;
    expect(en.parsed.subject).toBe('Please come back to TOYBOX');
    expect(en.parsed.text).toContain('Dear TOYBOX member');

    const skipped = await web.portal.ctx.knex('portal.campaign_recipients').where({ campaign_id: id, status: 'skipped' }).select('email', 'skip_reason').orderBy('email');
    expect(skipped).toEqual([
      { email: 'back@example.jp', skip_reason: 'registered' },
      { email: 'blocked@example.jp', skip_reason: 'suppressed' },
    ]);
    const p = await campaignProgress(web.portal.ctx.knex, (await getCampaign(web.portal.ctx.knex, id))!);
    expect(p).toMatchObject({ status: 'completed', total: 4, sent: 2, skipped: 2, failed: 0, reregistered: 1 });
  });

  it('the personal link records the click and forwards to sign-up; one-click unsubscribe works with no session and suppresses for good', async () => {
    const id = await setup([{ email: 'click@example.jp' }]);
    await startSending(web.portal.ctx.knex, id, 'test');
    await runCampaign(web.portal.ctx, id);
    const [mail] = await web.sink.waitFor(1);
    const link = /https:\/\/portal\.example\/r\/[\w.-]+/.exec(mail!.parsed.text!)![0];

    const page = await web.portal.agent().get(pathOf(link)).expect(200);
    expect(page.text).toContain('click@example.jp'); // the address the link proves, registered through the form below
    expect(page.text).toContain(`action="${pathOf(link)}/register"`);
    expect((await web.portal.agent().get(pathOf(link).slice(0, -2) + (link.endsWith('xx') ? 'yy' : 'xx'))).status).toBe(410); // forged: src/http/links.ts
    let p = await campaignProgress(web.portal.ctx.knex, (await getCampaign(web.portal.ctx.knex, id))!);
    expect(p.clicked).toBe(1);

    const unsubUrl = /<(https:\/\/portal\.example\/u\/[\w.-]+)>/.exec(mail!.raw)![1]!;
    const confirm = await web.portal.agent().get(pathOf(unsubUrl)).expect(200);
    expect(confirm.text).toContain(`action="${pathOf(unsubUrl)}"`);
    expect(await web.portal.ctx.knex('portal.suppressions').count({ n: '*' })).toEqual([{ n: 0 }]); // a GET changes nothing

    // What a mailbox provider sends: a bare POST, no cookie, no CSRF token.
    await web.portal.agent().post(pathOf(unsubUrl)).type('form').send('List-Unsubscribe=One-Click').expect(200);
    expect(await web.portal.ctx.knex('portal.suppressions').where({ email_key: 'click@example.jp' }).first()).toMatchObject({ reason: 'unsubscribed' });
    expect((await web.portal.agent().post(pathOf(unsubUrl).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))).send('List-Unsubscribe=One-Click')).status).toBe(410); // forged: gone
    p = await campaignProgress(web.portal.ctx.knex, (await getCampaign(web.portal.ctx.knex, id))!);
    expect(p.unsubscribed).toBe(1);

    // A later campaign leaves the address out entirely.
    const { recipients } = await createCampaign(web.portal.ctx.knex, { name: 'again', subject_ja: 's', text_ja: '{{link}}', rate_per_minute: 0 }, 'test');
    expect(recipients).toBe(0);
  });

  it('5xx fails permanently with the reason; N consecutive failures pause the campaign, which resumes without loss', async () => {
    const id = await setup(['a', 'b', 'c', 'd'].map((x) => ({ email: `${x}@example.org` })), { concurrency: 1, pause_after_failures: 2 });
    await startSending(web.portal.ctx.knex, id, 'test');
    web.sink.failWith(451, 'greylisted, try later');
    expect(await runCampaign(web.portal.ctx, id)).toBe('paused');
    const c = (await getCampaign(web.portal.ctx.knex, id))!;
    expect(c.pause_reason).toMatch(/2 consecutive failures; last: .*451/);
    expect(await web.portal.ctx.knex('portal.campaign_recipients').where({ campaign_id: id, status: 'queued' }).count({ n: '*' })).toEqual([{ n: 4 }]);

    web.sink.failWith(null);
    await resumeCampaign(web.portal.ctx.knex, id, 'test');
    expect(await runCampaign(web.portal.ctx, id)).toBe('completed');
    expect([...byRecipient(web.sink.messages).values()]).toEqual([1, 1, 1, 1]);

    const id2 = await setup([{ email: 'nouser@example.org' }], { pause_after_failures: 10 });
    web.sink.messages.length = 0;
    web.sink.failWith(550, 'no such user here');
    await startSending(web.portal.ctx.knex, id2, 'test');
    expect(await runCampaign(web.portal.ctx, id2)).toBe('completed');
    const failed = await web.portal.ctx.knex('portal.campaign_recipients').where({ campaign_id: id2, email_key: 'nouser@example.org' }).first();
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
    expect(failed.last_error).toContain('550');
  });

  it('the rate limit holds: 6 per minute lets the first burst through and then waits', async () => {
    const id = await setup(['r1', 'r2', 'r3', 'r4', 'r5'].map((x) => ({ email: `${x}@example.org` })), { rate_per_minute: 60 });
    await startSending(web.portal.ctx.knex, id, 'test');
    const abort = new AbortController();
    const started = Date.now();
    const run = runCampaign(web.portal.ctx, id, { signal: abort.signal });
    await web.sink.waitFor(3, 5000);
    abort.abort();
    await run;
    const elapsed = (Date.now() - started) / 1000;
    // 60/min = 1 per second with a 2-message burst: never more than 2 + elapsed seconds.
    expect(web.sink.messages.length).toBeLessThanOrEqual(2 + Math.ceil(elapsed));
    expect(await web.portal.ctx.knex('portal.campaign_recipients').where({ campaign_id: id, status: 'sending' }).count({ n: '*' })).toEqual([{ n: 0 }]);
  });
});

describe('bounces', () => {
  const sign = (body: string, ts = Math.floor(Date.now() / 1000)) => ({
    'X-Toybox-Timestamp': String(ts),
    'X-Toybox-Signature': `sha256=${crypto.createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex')}`,
  });

  it('the webhook accepts only signed bodies; hard bounces suppress, soft ones count, redeliveries count once', async () => {
    const id = await setup([{ email: 'hard@example.net' }, { email: 'soft@example.net' }]);
    await startSending(web.portal.ctx.knex, id, 'test');
    await runCampaign(web.portal.ctx, id);
    const body = JSON.stringify({ events: [{ email: 'HARD@example.net', type: 'hard', status: '5.1.1', reason: 'user unknown', id: 'ev1' }, { email: 'soft@example.net', type: 'soft', id: 'ev2' }] });
    await web.portal.agent().post('/webhooks/bounce').set('Content-Type', 'application/json').set(sign(body)).send(body).expect(200, { recorded: 2, duplicate: 0, invalid: 0 });
    await web.portal.agent().post('/webhooks/bounce').set('Content-Type', 'application/json').set(sign(body)).send(body).expect(200, { recorded: 0, duplicate: 2, invalid: 0 });
    const bad = await web.portal.agent().post('/webhooks/bounce').set('Content-Type', 'application/json').set({ ...sign(body), 'X-Toybox-Signature': `sha256=${'0'.repeat(64)}` }).send(body);
    expect(bad.status).toBe(401);
    const stale = await web.portal.agent().post('/webhooks/bounce').set('Content-Type', 'application/json').set(sign(body, Math.floor(Date.now() / 1000) - 3600)).send(body);
    expect(stale.status).toBe(401);
    const junk = '{"events":[{"email":"x@example.net","type":"bogus"}]}';
    expect((await web.portal.agent().post('/webhooks/bounce').set('Content-Type', 'application/json').set(sign(junk)).send(junk)).status).toBe(422);

    expect(await web.portal.ctx.knex('portal.suppressions').select('email_key', 'reason')).toEqual([{ email_key: 'hard@example.net', reason: 'hard_bounce' }]);
    const p = await campaignProgress(web.portal.ctx.knex, (await getCampaign(web.portal.ctx.knex, id))!);
    expect(p).toMatchObject({ hard_bounced: 1, soft_bounced: 1 });
  });

  it('imports RFC 3464 reports from an mbox, once', async () => {
    await setup([{ email: 'gone@example.net' }, { email: 'full@example.net' }]);
    const buf = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'campaigns', 'dsn.mbox'));
    expect(await importBounceMbox(web.portal.ctx.knex, buf, 'dsn.mbox')).toEqual({ reports: 2, hard: 1, soft: 1, duplicates: 0, unsubscribes: 0, unreadable: 0 });
    expect(await importBounceMbox(web.portal.ctx.knex, buf, 'dsn.mbox')).toEqual({ reports: 2, hard: 0, soft: 0, duplicates: 2, unsubscribes: 0, unreadable: 0 });
    expect(await web.portal.ctx.knex('portal.suppressions').select('email_key', 'reason')).toEqual([{ email_key: 'gone@example.net', reason: 'hard_bounce' }]);
  });

  it('a reply to the mailto: unsubscribe address, imported from the mailbox, unsubscribes only with a valid token', async () => {
    const id = await setup([{ email: 'mailto@example.net' }]);
    await startSending(web.portal.ctx.knex, id, 'test');
    await runCampaign(web.portal.ctx, id);
    const [mail] = await web.sink.waitFor(1);
    const token = /subject=unsubscribe%20([\w.-]+)>/.exec(mail!.raw.replace(/\r?\n\s+/g, ' '))![1]!;
    const mbox = [
      'From mailto@example.net Mon Feb  2 10:00:00 2026',
      'From: someone <mailto@example.net>',
      `Subject: unsubscribe ${token}`,
      '',
      '',
      'From attacker@example.net Mon Feb  2 10:01:00 2026',
      'From: attacker <attacker@example.net>',
      `Subject: unsubscribe ${token.slice(0, -1)}${token.endsWith('x') ? 'y' : 'x'}`,
      '',
      '',
    ].join('\n');
    const r = await importBounceMbox(web.portal.ctx.knex, Buffer.from(mbox), 'unsub.mbox', web.portal.config.SESSION_SECRET);
    expect(r).toMatchObject({ unsubscribes: 1, unreadable: 1 });
    expect(await web.portal.ctx.knex('portal.suppressions').select('email_key', 'reason')).toEqual([{ email_key: 'mailto@example.net', reason: 'unsubscribed' }]);
  });
});
