import { csrfFrom, signedInAgent } from '../support/portal';
import { buildUser } from '../support/factories';
import { buildChecklist } from '../../src/features/recovery/service';
import { workOwner } from '../../src/jobs/ownership';
import { type ReceivedMail } from '../support/smtp-sink';
import { eventually } from '../support/eventually';
import * as service from '../../src/features/notice/service';
import { parseNoticeInput } from '../../src/features/notice/schema';
import { deliverUpdates } from '../../src/features/notice/subscribers';
import { feature as noticeFeature } from '../../src/features/notice';
import { startBackground } from '../../src/jobs/runner';
import { suppressAddress } from '../../src/features/campaigns/addresses/suppressions';
import { usePortal } from '../support/portal-stack';

const actor = { label: 'test:subscriptions', userId: null };

function notice(title: string) {
  const r = parseNoticeInput({ kind: 'incident', severity: 'critical', title_ja: title, title_en: `${title} (en)`, body_ja: `${title}を調査中です。`, body_en: 'Investigating.' });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

/** Status e-mails: double opt-in, one-click unsubscribe, suppressions, each update to each subscriber exactly once. */
describe('subscribing to status updates by e-mail (real SMTP sink)', () => {
  let stop: (() => Promise<void>) | undefined;
  afterAll(() => stop?.()); // declared before usePortal: hooks run in the order declared, so the worker stops before the portal closes
  const web = usePortal({ smtp: true });
  beforeAll(async () => {
    stop = await startBackground(web.portal.ctx, [noticeFeature]);
  });

  /** The message's header block with folded lines joined, as a mail client reads it. */
  const headersOf = (m: ReceivedMail) => m.raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const to = (addr: string) => web.sink.messages.filter((m) => m.envelopeTo.includes(addr));
  const linkIn = (m: ReceivedMail, path: string) => new RegExp(`http://localhost:0(${path}[\\w.-]+)`).exec(m.parsed.text ?? '')![1]!;

  async function subscribe(email: string, lang: 'ja' | 'en' = 'ja') {
    const agent = web.portal.agent();
    const form = await agent.get(`/status/subscribe?lang=${lang}`).expect(200);
    return agent.post('/status/subscribe').type('form').send({ _csrf: csrfFrom(form.text), email, lang });
  }

  async function confirmedSubscriber(email: string, lang: 'ja' | 'en' = 'ja') {
    expect((await subscribe(email, lang)).status).toBe(200);
    await eventually(() => to(email).length === 1, 10_000);
    const link = linkIn(to(email)[0]!, '/status/subscribe/confirm/');
    await web.portal.agent().post(link).type('form').send({}).expect(200);
  }

  it('asks for a valid address, with the form beside the message, and refuses a post without CSRF', async () => {
    const bad = await subscribe('not-an-address');
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('メールアドレスを正しく入力してください。');
    expect(bad.text).toContain('value="not-an-address"');
    await web.portal.agent().post('/status/subscribe').type('form').send({ email: 'x@example.jp' }).expect(403);
    const [{ count }] = await web.portal.ctx.knex('portal.notice_subscribers').count<{ count: string }[]>('* as count');
    expect(Number(count)).toBe(0);
  });

  it('double opt-in: the e-mailed link opens a page, only its POST confirms, and only once', async () => {
    const res = await subscribe('Reader@Example.jp');
    expect(res.status).toBe(200);
    expect(res.text).toContain('確認メールを送りました');
    await eventually(() => to('Reader@example.jp').length === 1, 10_000);
    const mail = to('Reader@example.jp')[0]!;
    expect(mail.parsed.subject).toBe('【TOYBOX】障害情報メールの登録確認');
    expect(mail.parsed.html).toContain('name="viewport"');
    const link = linkIn(mail, '/status/subscribe/confirm/');

    const pageRes = await web.portal.agent().get(link).expect(200);
    expect(pageRes.text).toContain('登録を完了しますか？');
    const row = () => web.portal.ctx.knex('portal.notice_subscribers').where({ email_key: 'reader@example.jp' }).first();
    expect((await row()).confirmed_at).toBeNull(); // opening the link (a mail scanner, say) confirms nothing
    await web.portal.agent().post(link).type('form').send({}).expect(200);
    expect((await row()).confirmed_at).not.toBeNull();
    const again = await web.portal.agent().post(link).type('form').send({});
    expect(again.status).toBe(410); // spent: the shared "this link no longer works" page (src/http/links.ts)
    const forged = await web.portal.agent().post(`${link.slice(0, -3)}AAA`).type('form').send({});
    expect(forged.status).toBe(410);
    expect(forged.text).toContain('このリンクはもう使えません');
  });

  it('sends each published update to each confirmed subscriber exactly once, with one-click unsubscribe headers', async () => {
    await confirmedSubscriber('en-reader@example.jp', 'en');
    const before = { ja: to('Reader@example.jp').length, en: to('en-reader@example.jp').length };
    const id = await service.createNotice(web.portal.ctx, notice('決済の障害'), actor, { publish: true });
    await service.addUpdate(web.portal.ctx, id, { state: 'identified', body_ja: '原因が分かりました。', body_en: 'Cause found.' }, actor);
    await eventually(() => to('Reader@example.jp').length === before.ja + 2 && to('en-reader@example.jp').length === before.en + 2, 15_000);
    // more fan-outs at once, as several instances would run them: nothing more leaves
    const again = await Promise.all([deliverUpdates(web.portal.ctx), deliverUpdates(web.portal.ctx), deliverUpdates(web.portal.ctx)]);
    expect(again.map((r) => r.sent)).toEqual([0, 0, 0]);
    expect(to('Reader@example.jp')).toHaveLength(before.ja + 2);
    expect(to('en-reader@example.jp')).toHaveLength(before.en + 2);

    const ja = to('Reader@example.jp').slice(-2).map((m) => m.parsed.subject).sort();
    expect(ja).toEqual(['【TOYBOX 障害情報】[原因特定] 決済の障害', '【TOYBOX 障害情報】[調査中] 決済の障害']);
    const en = to('en-reader@example.jp').slice(-1)[0]!;
    expect(en.parsed.subject).toMatch(/^\[TOYBOX status\] \[(Identified|Investigating)\] 決済の障害 \(en\)$/);
    expect(headersOf(en)).toMatch(/^List-Unsubscribe: <http:\/\/localhost:0\/status\/unsubscribe\/[\w.-]+>/m);
    expect(headersOf(en)).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click/m);
    expect(en.parsed.text).toContain('Unsubscribe: http://localhost:0/status/unsubscribe/');
    // the worker marks a row sent just after the server took the message
    const sent = async () => Number((await web.portal.ctx.knex('portal.notice_deliveries').where({ status: 'sent' }).count<{ count: string }[]>('* as count'))[0]!.count);
    await eventually(async () => (await sent()) >= 4, 5000);
    expect(await sent()).toBe(4);
  });

  it('a status e-mail cut off by a process that died stays unsent (never resent) and is named on the recovery checklist', async () => {
    const email = 'cut-off@example.jp';
    const id = await service.createNotice(web.portal.ctx, notice('通知の障害'), actor, { publish: true });
    const update = await web.portal.ctx.knex('portal.notice_updates').where({ notice_id: id }).first();
    const live = (await workOwner(web.portal.ctx)).id;
    // What a worker killed between its claim and SMTP's answer leaves: the row in 'sending', owned by a process
    // whose work-owner lock is gone. Subscriber and row are written in one transaction, so no fan-out running
    // meanwhile can send this update to them first; one more row is in flight in this (live) process.
    const [sub, flying] = await web.portal.ctx.knex.transaction(async (trx) => {
      const ids: number[] = [];
      for (const [addr, owner] of [[email, 'gone-host:1:dead'], ['in-flight@example.jp', live]] as const) {
        const [row] = await trx('portal.notice_subscribers').insert({ email: addr, email_key: addr, lang: 'ja', confirmed_at: update.at }).returning('id');
        await trx('portal.notice_deliveries').insert({ subscriber_id: row.id, update_id: update.id, status: 'sending', attempts: 1, owner, claimed_at: trx.fn.now() });
        ids.push(Number(row.id));
      }
      return ids;
    });
    expect(flying).toBeGreaterThan(0);

    await Promise.all([deliverUpdates(web.portal.ctx), deliverUpdates(web.portal.ctx)]);
    expect(to(email)).toHaveLength(0); // never resent (and nothing else: this update is their first)
    expect(await web.portal.ctx.knex('portal.notice_deliveries').where({ subscriber_id: sub, update_id: update.id }).first('status')).toEqual({ status: 'sending' });

    const checklist = await buildChecklist(web.portal.ctx, [noticeFeature]);
    const line = checklist.lines.find((l) => l.id === 'notice_mail')!;
    expect(line).toMatchObject({ state: 'warn', detail: 'notice_mail.interrupted', section: 'tonight' });
    expect(line.vars).toMatchObject({ count: 1, emails: email }); // the one still in flight (a live owner) is not listed
    const su = await buildUser(web.portal.ctx.knex, { is_staff: true, is_superuser: true });
    const staff = await signedInAgent(web.portal, su.display_id, su.password);
    const page = await staff.get('/admin/recovery?lang=en').expect(200);
    expect(page.text).toContain('Status e-mails cut off mid-send');
    expect(page.text).toContain(`Addresses that may have missed one: ${email}`);
  });

  it('one-click unsubscribe (RFC 8058): a cookieless POST stops further mail', async () => {
    const last = to('en-reader@example.jp').slice(-1)[0]!;
    const url = /^List-Unsubscribe: <http:\/\/localhost:0([^>]+)>/m.exec(headersOf(last))![1]!;
    const page = await web.portal.agent().get(url).expect(200);
    expect(page.text).toContain('配信を停止しますか？');
    const res = await web.portal.agent().post(url).type('form').send('List-Unsubscribe=One-Click');
    expect(res.status).toBe(200);
    const before = { ja: to('Reader@example.jp').length, en: to('en-reader@example.jp').length };
    const id = await service.createNotice(web.portal.ctx, notice('画像の障害'), actor, { publish: true });
    await eventually(() => to('Reader@example.jp').length === before.ja + 1, 15_000);
    await deliverUpdates(web.portal.ctx);
    expect(to('en-reader@example.jp')).toHaveLength(before.en);
    expect(id).toBeGreaterThan(0);
  });

  it('never mails an address on the campaign suppression list (a hard bounce, say)', async () => {
    await confirmedSubscriber('bounced@example.jp');
    await suppressAddress(web.portal.ctx.knex, 'bounced@example.jp', 'hard_bounce', 'test');
    await service.createNotice(web.portal.ctx, notice('検索の障害'), actor, { publish: true });
    await eventually(async () => (await web.portal.ctx.knex('portal.notice_deliveries as d').join('portal.notice_subscribers as s', 's.id', 'd.subscriber_id').where('s.email_key', 'bounced@example.jp').where('d.status', 'skipped')).length === 1, 15_000);
    expect(to('bounced@example.jp')).toHaveLength(1); // the confirmation only
  });

  it('a delivery caught mid-send by a crash is not sent again', async () => {
    await confirmedSubscriber('crash@example.jp');
    const s = await web.portal.ctx.knex('portal.notice_subscribers').where({ email_key: 'crash@example.jp' }).first();
    await stop!();
    const id = await service.createNotice(web.portal.ctx, notice('通知の障害'), actor, { publish: false });
    await service.publishNotice(web.portal.ctx, id, actor);
    const [u] = await web.portal.ctx.knex('portal.notice_updates').where({ notice_id: id }).select('id');
    // the worker had claimed the row and died before marking it sent
    await web.portal.ctx.knex('portal.notice_deliveries').insert({ subscriber_id: s.id, update_id: u.id, status: 'sending', attempts: 1 });
    await deliverUpdates(web.portal.ctx);
    expect(to('crash@example.jp')).toHaveLength(1); // the confirmation only
    stop = await startBackground(web.portal.ctx, [noticeFeature]);
  });
});
