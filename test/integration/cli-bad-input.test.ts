import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../support/portal';
import { runCliSync } from '../support/cli';
import { useTestPortal } from '../support/portal-stack';


/** Issue 14, point 10: the operator's mistakes get a message naming what was wrong and a usage exit code (2). */
describe('CLI: bad targets and folders are refused clearly', () => {
  const portal = useTestPortal();

  const cli = (args: string[]) => runCliSync(args, { env: { DATABASE_URL: portal.db.url, DATA_DIR: portal.dataDir }, timeoutMs: 60_000 });

  it('backup restore --target notaurl names the bad URL and exits 2, instead of a DNS error', () => {
    const r = cli(['backup', 'restore', '1', '--target', 'notaurl']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--target is not a valid PostgreSQL URL: notaurl');
    expect(r.stderr).not.toMatch(/getaddrinfo|ENOTFOUND|at .*\.ts/);
  });

  it('never prints the password of a wrong --target', () => {
    for (const target of ['http://admin:hunter2secret@db.example/toybox', 'admin:hunter2secret@db.example/toybox']) {
      const r = cli(['backup', 'restore', '1', '--target', target]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--target is not a valid PostgreSQL URL');
      expect(r.stderr).toContain('db.example');
      expect(r.stderr).not.toContain('hunter2secret');
    }
  });

  it('addresses import refuses a folder that is neither a Maildir nor a folder of .eml files, imports nothing, exits 2', async () => {
    const dir = tempDir('not-mail-');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'call bob@example.com tomorrow\n');
    fs.mkdirSync(path.join(dir, 'photos'));
    const r = cli(['addresses', 'import', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${dir} is not a mail folder`);
    expect(r.stdout).not.toContain('format: mbox');
    expect(await portal.ctx.knex('portal.addresses').count({ n: '*' }).first()).toEqual({ n: 0 });
  });

  it('addresses import reads a Maildir (cur/ and new/)', async () => {
    const dir = tempDir('maildir-');
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dir, sub));
    const message = (from: string) => `From: Someone <${from}>\r\nTo: support@toybox.example\r\nSubject: help\r\nDate: Mon, 19 Jan 2026 10:00:00 +0900\r\n\r\nPlease help.\r\n`;
    fs.writeFileSync(path.join(dir, 'cur', '1737250000.M1P1.host:2,S'), message('maildir-one@example.com'));
    fs.writeFileSync(path.join(dir, 'new', '1737250001.M2P1.host'), message('maildir-two@example.com'));
    const r = cli(['addresses', 'import', dir, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).imported).toBe(2);
    const emails = (await portal.ctx.knex('portal.addresses').select('email').orderBy('email')).map((a) => a.email);
    expect(emails).toEqual(['maildir-one@example.com', 'maildir-two@example.com']);
  });
});
