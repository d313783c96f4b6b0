import fs from 'node:fs';
import path from 'node:path';
import { EMAILS, type EmailName } from '../../src/mail/definitions';
import { sendEmail, sendEmailNow } from '../../src/mail/send';
import { translator } from '../../src/i18n';
import { usePortal } from '../support/portal-stack';

/**
 * Alert e-mails are the one exception to "every e-mail is sent from a queue job" (src/mail/definitions.ts,
 * docs/backups.md "Alert e-mails"): sent at once, retried in process, so they leave while PostgreSQL (where the
 * queue lives) is what failed.
 */
describe('alert e-mails: sent directly, with in-process retries', () => {
  const web = usePortal({ smtp: true });

  const mail = () => ({ to: 'ops@example.org', lang: 'ja' as const, locals: { en: translator('en'), publicUrl: 'https://portal.example', sentAt: new Date(), actor: 'admin_01' } });

  it('the direct definitions are exactly the alerts, and each sender uses the path its definition names', () => {
    const direct = (Object.keys(EMAILS) as EmailName[]).filter((n) => EMAILS[n].delivery === 'direct');
    expect(direct.sort()).toEqual(['alertCleared', 'alertRaised', 'alertTest']);
    const src = path.resolve(__dirname, '..', '..', 'src');
    const calls: Array<{ fn: string; name: string; file: string }> = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts')) for (const m of fs.readFileSync(p, 'utf8').matchAll(/\b(sendEmail|sendEmailNow|queueMessage)\((?:ctx|trx), (?:[^,]*\? )?'(\w+)'(?: : '(\w+)')?/g)) {
          // queueMessage: the send queue's job later sends it with sendEmail
          const fn = m[1] === 'queueMessage' ? 'sendEmail' : m[1]!;
          for (const name of [m[2], m[3]].filter(Boolean)) calls.push({ fn, name: name!, file: path.relative(src, p) });
        }
      }
    };
    walk(src);
    // every definition but the campaign message (sent by the campaign sender from its compiled templates) is sent somewhere
    expect(new Set(calls.map((c) => c.name))).toEqual(new Set((Object.keys(EMAILS) as EmailName[]).filter((n) => EMAILS[n].subject !== 'campaign')));
    for (const c of calls) expect([c.file, c.name, c.fn]).toEqual([c.file, c.name, EMAILS[c.name as EmailName].delivery === 'direct' ? 'sendEmailNow' : 'sendEmail']);
  });

  it('retries a refused alert in process and delivers it once the relay answers again', async () => {
    const before = web.sink.messages.length;
    web.sink.failWith(451, 'try again later');
    setTimeout(() => web.sink.failWith(null), 300);
    const started = Date.now();
    await sendEmailNow(web.portal.ctx, 'alertTest', mail(), [800]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(700); // the first attempt was refused, the second went through
    await web.sink.waitFor(before + 1);
    expect(web.sink.messages.slice(before)).toHaveLength(1);
  });

  it('gives up after its attempts with the relay\'s error, and refuses to go through the wrong path', async () => {
    web.sink.failWith(550, 'mailbox unavailable');
    try {
      await expect(sendEmailNow(web.portal.ctx, 'alertTest', mail(), [50, 50])).rejects.toThrow(/mailbox unavailable/);
    } finally {
      web.sink.failWith(null);
    }
    await expect(sendEmail(web.portal.ctx, 'alertTest', mail())).rejects.toThrow(/sent directly: use sendEmailNow/);
    await expect(sendEmailNow(web.portal.ctx, 'exportLink', { to: 'x@example.org', lang: 'ja', locals: {} })).rejects.toThrow(/goes through the queue/);
  });
});
