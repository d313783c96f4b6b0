import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { startTestPortal, csrfFrom, signedInAgent, tempDir, type TestPortal } from '../support/portal';
import { runCli } from '../support/cli';
import { spawnPortal, type PortalProcess } from '../support/portal-process';
import { startControlledSink, type ControlledSink } from '../support/campaigns-sink';
import { eventually as until } from '../support/eventually';
import { workQueues } from '../support/background';
import { buildUser } from '../support/factories';
import { OLD_TS } from '../support/salvage-fixtures';

/*
 * The restored-account invitation goes through src/mail/send-queue.ts: queued with
 * the invitation, sent by the claims.mail job in a real portal process, exactly
 * once (a second run, a SIGKILLed worker), never to a suppressed address, and
 * at the outbound rate (MAIL_RATE_PER_MINUTE).
 */

let portal: TestPortal;
let sink: ControlledSink;
let knex: Knex;
let work: string;
const processes: PortalProcess[] = [];
const startWorker = async () => {
  const p = await spawnPortal(env());
  processes.push(p);
  return p;
};

const env = () => ({ DATABASE_URL: portal.db.url, DATA_DIR: portal.dataDir, SESSION_SECRET: portal.config.SESSION_SECRET, SMTP_URL: sink.url, TOYBOX_MEDIA_DIR: path.join(work, 'live') });
const cli = (...args: string[]) => runCli(['claims', 'restore-account', ...args], { env: env() });
const addressOf = (oldId: number) => `owner${oldId}@old.example`;
const invitationMail = async (oldId: number) => {
  const inv = await knex('portal.account_invitations').where({ old_user_id: oldId });
  return knex('portal.mail_send_queue').whereIn('ref', inv.map((i: { id: string }) => `claims.invitation:${i.id}`));
};
const received = (oldId: number) => sink.received.filter((r) => r.to === addressOf(oldId));

beforeAll(async () => {
  sink = await startControlledSink();
  work = tempDir('claims-invite-');
  fs.mkdirSync(path.join(work, 'live'));
  portal = await startTestPortal({ SMTP_URL: sink.url, TOYBOX_MEDIA_DIR: path.join(work, 'live'), MAIL_RATE_PER_MINUTE: '60' });
  knex = portal.ctx.knex;
  // An old database as salvage loads it: old accounts whose owners never re-registered.
  const [src] = await knex('portal.salvage_sources').insert({ kind: 'database', locator: 'old.dump', fingerprint: 'invite-fixture', status: 'complete' }).returning('id');
  const schema = `salvage_${Number(src.id)}`;
  await knex('portal.salvage_sources').where({ id: src.id }).update({ schema_name: schema, finished_at: knex.fn.now() });
  await knex.raw(`CREATE SCHEMA ${schema}`);
  await knex.raw(`CREATE TABLE ${schema}.users (LIKE public.users INCLUDING DEFAULTS INCLUDING IDENTITY)`);
  const at = new Date(OLD_TS * 1000);
  const user = (id: number) => ({ id, display_id: `old_${id}`, email: addressOf(id), password: '!', role: 'FREE_USER', is_suspended: false, warning_count: 0, is_active: true, is_staff: false, is_superuser: false, created_at: at, updated_at: at });
  await knex.withSchema(schema).table('users').insert([50, 51, 52, 60, 61, 62, 63, 64].map(user));
});

afterAll(async () => {
  for (const p of processes) await p.kill();
  await portal?.close();
  await sink?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('the invitation is sent exactly once', () => {
  it('restore-account --invite run twice queues one e-mail; a worker SIGKILLed mid-send and restarted delivers it once, with its Message-ID', async () => {
    const first = await cli('50', '--invite');
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain('invitation queued');
    const second = await cli('50', '--invite');
    expect(second.stdout).toMatch(/already restored.*invitation already queued .* JST: not queued again/);
    expect(await invitationMail(50)).toHaveLength(1);

    sink.hold(true); // the server answers no RCPT: the worker is mid-transaction, before DATA
    const worker = await startWorker();
    await until(() => sink.held() === 1, 60_000);
    const [claimed] = await invitationMail(50);
    expect(claimed).toMatchObject({ status: 'sending', attempts: 1 });
    await worker.kill(); // SIGKILL to its process group
    sink.hold(false);
    expect(received(50)).toHaveLength(0);
    expect((await invitationMail(50))[0].status).toBe('sending'); // what a crash leaves

    const restarted = await startWorker(); // its sweep sees the dead owner at start and queues the message again
    await until(async () => (await invitationMail(50))[0].status === 'sent', 60_000);
    await restarted.stop(); // a clean stop lets anything in flight finish: nothing more can arrive after this
    const [row] = await invitationMail(50);
    expect(received(50)).toHaveLength(1);
    expect(received(50)[0]!.messageId).toBe(row.message_id);
    expect(row).toMatchObject({ attempts: 2, last_error: 'worker lost during send (its process is gone)' });
    expect((await knex('portal.account_invitations').where({ old_user_id: 50 }).first()).sent_at).not.toBeNull();
    expect(await knex('portal.audit_log').where({ action: 'claims.invitation_sent' })).toHaveLength(1);

    const third = await cli('50', '--invite');
    expect(third.stdout).toMatch(/invitation already sent .* JST: not sent again/);
    expect(await invitationMail(50)).toHaveLength(1);
  }, 240_000);
});

describe('suppression and rate', () => {
  let stopWorker: () => Promise<void>;
  afterAll(async () => stopWorker?.());

  it('a suppressed address gets nothing, and the staff page and the CLI say so', async () => {
    await knex('portal.suppressions').insert([{ email_key: addressOf(51), reason: 'hard_bounce' }]);
    const staff = await buildUser(knex, { is_staff: true, role: 'ADMIN' });
    const admin = await signedInAgent(portal, staff.display_id, staff.password);
    const page = await admin.get('/admin/claims');
    const res = await admin.post('/admin/claims/restore-account').set('Accept-Language', 'en').type('form').send({ _csrf: csrfFrom(page.text), old_user_id: 51, invite: 'on' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('data-invitation="suppressed"');
    expect(res.text).toMatch(/Invitation not sent: the address is on the suppression list/);
    expect(await knex('portal.account_invitations').where({ old_user_id: 51 })).toHaveLength(0);
    const again = await cli('51', '--invite');
    expect(again.stdout).toContain('invitation not sent: address suppressed');
  });

  it('an address suppressed after the invitation was queued is checked again when it is sent', async () => {
    expect((await cli('52', '--invite')).stdout).toContain('invitation queued');
    await knex('portal.suppressions').insert([{ email_key: addressOf(52), reason: 'complaint' }]);
    stopWorker = await workQueues(portal.ctx, ['claimsMail']);
    await until(async () => (await invitationMail(52))[0]?.status === 'suppressed');
    expect(received(52)).toHaveLength(0);
    expect((await invitationMail(52))[0]).toMatchObject({ attempts: 1, last_error: 'address is on the suppression list' });
  });

  it('five invitations go out at the outbound rate (MAIL_RATE_PER_MINUTE=60: two at once, then one a second)', async () => {
    await stopWorker();
    const staff = await buildUser(knex, { is_staff: true, role: 'ADMIN' });
    const admin = await signedInAgent(portal, staff.display_id, staff.password);
    const csrf = csrfFrom((await admin.get('/admin/claims')).text);
    for (const id of [60, 61, 62, 63, 64]) {
      const res = await admin.post('/admin/claims/restore-account').type('form').send({ _csrf: csrf, old_user_id: id, invite: 'on' });
      expect(res.text).toContain('data-invitation="queued"');
    }
    // The worker starts with all five queued; the bucket holds at most its burst (2 s worth).
    const started = Date.now();
    stopWorker = await workQueues(portal.ctx, ['claimsMail']);
    await until(async () => (await Promise.all([60, 61, 62, 63, 64].map(invitationMail))).every((m) => m[0]?.status === 'sent'), 30_000).catch(async (err) => {
      process.stderr.write(JSON.stringify(await knex('portal.mail_send_queue').select(), null, 1));
      throw err;
    });
    const sentAt = (await Promise.all([60, 61, 62, 63, 64].map(invitationMail))).map((m) => new Date(m[0].sent_at).getTime()).sort();
    const span = (sentAt.at(-1)! - sentAt[0]!) / 1000;
    process.stderr.write(`five invitations at 60/min: first to last ${span.toFixed(2)} s, all sent ${((Date.now() - started) / 1000).toFixed(2)} s after the worker started\n`);
    expect(span).toBeGreaterThanOrEqual(2.5); // 2 at once, then 1/s: the fifth about 3 s after the first
    expect([60, 61, 62, 63, 64].every((id) => received(id).length === 1)).toBe(true);
  });
});
