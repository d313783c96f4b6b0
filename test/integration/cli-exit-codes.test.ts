import fs from 'node:fs';
import path from 'node:path';
import { startTestPortal, tempDir, type TestPortal } from '../support/portal';
import { buildUser } from '../support/factories';
import { runCli } from '../../src/cli/main';
import { EXIT } from '../../src/cli/exit-codes';
import { createNotice, resolveNotice } from '../../src/features/notice/service';
import { parseNoticeInput } from '../../src/features/notice/schema';
import { cancelCampaign, createCampaign } from '../../src/features/campaigns/lifecycle/service';
import { insertRunningBackup, updateBackup } from '../../src/features/backups/repo';

/** The README's "Exit codes" table, as an operator reads it: kind -> code. */
function readmeExitCodes(): Record<string, number> {
  const readme = fs.readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Exit codes'));
  const rows = [...section.matchAll(/^\| (\d+) \| ([a-z ]+) \|/gm)];
  return Object.fromEntries(rows.map((m) => [m[2]!, Number(m[1])]));
}

type Kind = 'invalid' | 'refused' | 'not found';

describe('CLI exit codes: one contract for every command', () => {
  let portal: TestPortal;
  const saved = { ...process.env };
  const ids = { resolvedNotice: 0, cancelledCampaign: 0, goodBackup: 0 };

  beforeAll(async () => {
    portal = await startTestPortal();
    Object.assign(process.env, { DATABASE_URL: portal.db.url, DATA_DIR: tempDir(), LOG_LEVEL: 'silent', NODE_ENV: 'test' });
    const actor = { label: 'test', userId: null };
    const input = parseNoticeInput({ severity: 'info', title_ja: '解決済み', body_ja: '本文' });
    if (!input.ok) throw new Error(JSON.stringify(input.errors));
    ids.resolvedNotice = await createNotice(portal.ctx, input.value, actor, { publish: true });
    await resolveNotice(portal.ctx, ids.resolvedNotice, actor);
    ids.cancelledCampaign = (await createCampaign(portal.ctx.knex, { name: 'c', subject_ja: '件名', text_ja: '{{link}}', rate_per_minute: 0, concurrency: 1 }, 'test')).id;
    await cancelCampaign(portal.ctx.knex, ids.cancelledCampaign, 'test');
    const backup = (await insertRunningBackup(portal.ctx.knex, { kind: 'database', trigger: 'test', scheduled_for: null }))!;
    await updateBackup(portal.ctx.knex, backup.id, { status: 'good', finished_at: new Date() });
    ids.goodBackup = backup.id;
    await buildUser(portal.ctx.knex, { email: 'real.person@example.com', is_superuser: true, is_staff: true });
  });
  afterAll(async () => {
    process.env = saved;
    await portal.close();
  });

  async function cli(args: string[]): Promise<{ code: number; err: string }> {
    let err = '';
    const o = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
    try {
      return { code: await runCli(['node', 'recovery-portal', ...args]), err };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }

  it('the README table and the code agree', () => {
    const table = readmeExitCodes();
    expect(table).toEqual({ ok: EXIT.ok, failed: EXIT.failed, invalid: EXIT.invalid, refused: EXIT.refused, 'not found': EXIT.notFound, unavailable: EXIT.unavailable, busy: EXIT.busy });
  });

  // Each row: a command an operator could type, and the kind of answer the README promises.
  const cases: Array<[string, () => string[], Kind]> = [
    ['unknown option', () => ['notice', 'list', '--frobnicate'], 'invalid'],
    ['notice: malformed id', () => ['notice', 'resolve', 'abc'], 'invalid'],
    ['notice: bad severity', () => ['notice', 'publish', '--severity', 'loud', '--title-ja', 'x', '--body-ja', 'y'], 'invalid'],
    ['notice: unknown id', () => ['notice', 'resolve', '999999'], 'not found'],
    ['notice: already resolved', () => ['notice', 'resolve', String(ids.resolvedNotice)], 'refused'],
    ['notice update: unknown id', () => ['notice', 'update', '999999', '--body-ja', 'z'], 'not found'],
    ['campaign: malformed id', () => ['campaign', 'status', 'abc'], 'invalid'],
    ['campaign: unknown id (status)', () => ['campaign', 'status', '999999'], 'not found'],
    ['campaign: unknown id (pause)', () => ['campaign', 'pause', '999999'], 'not found'],
    ['campaign: unknown id (send)', () => ['campaign', 'send', '999999'], 'not found'],
    ['campaign: schedule at a non-time', () => ['campaign', 'schedule', String(ids.cancelledCampaign), '--at', 'someday'], 'invalid'],
    ['campaign: send a cancelled one', () => ['campaign', 'send', String(ids.cancelledCampaign)], 'refused'],
    ['addresses: missing file', () => ['addresses', 'import', '/nonexistent/addresses.csv'], 'invalid'],
    ['addresses: block a non-address', () => ['addresses', 'block', 'not-an-address'], 'invalid'],
    ['backup: malformed id', () => ['backup', 'verify', 'abc'], 'invalid'],
    ['backup: unknown id (verify)', () => ['backup', 'verify', '999999'], 'not found'],
    ['backup: unknown id (acknowledge)', () => ['backup', 'acknowledge', '999999'], 'not found'],
    ['backup: unknown id (restore)', () => ['backup', 'restore', '999999', '--target', 'postgres://127.0.0.1/none', '--dry-run'], 'not found'],
    ['backup: acknowledge a good backup', () => ['backup', 'acknowledge', String(ids.goodBackup)], 'refused'],
    ['export: bad format', () => ['export-user', '--user', 'x@example.com', '--format', 'pdf'], 'invalid'],
    ['export: unknown user', () => ['export-user', '--user', 'nobody@example.com'], 'not found'],
    ['admin: promote an unknown account', () => ['admin', 'promote', 'nobody@example.com'], 'not found'],
    ['admin: setup token while a superuser exists', () => ['admin', 'setup-token'], 'refused'],
    ['seed-demo on real data', () => ['seed-demo'], 'refused'],
  ];

  it.each(cases)('%s', async (_name, args, kind) => {
    const r = await cli(args());
    expect({ args: args(), code: r.code }).toEqual({ args: args(), code: readmeExitCodes()[kind] });
    expect(r.err).toMatch(/^error: \S/m);
    expect(r.err).not.toMatch(/\n\s+at /); // one line for the operator, never a stack
  });

  it('a refused command changed nothing', async () => {
    const before = await portal.ctx.knex('portal.audit_log').count<{ n: string }[]>('* as n');
    await cli(['campaign', 'send', String(ids.cancelledCampaign)]);
    await cli(['backup', 'acknowledge', String(ids.goodBackup)]);
    await cli(['notice', 'resolve', String(ids.resolvedNotice)]);
    expect(await portal.ctx.knex('portal.audit_log').count<{ n: string }[]>('* as n')).toEqual(before);
    expect((await portal.ctx.knex('portal.backups').where({ id: ids.goodBackup }).first()).status).toBe('good');
  });
});
