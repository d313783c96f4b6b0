import { startTestPortal, tempDir, type TestPortal } from '../support/portal';
import { runCli as runCliInProcess } from '../../src/cli/main';
import { runCli } from '../support/cli';
import { feature } from '../../src/features/notice';
import { runtimeFor } from '../../src/features/notice/runtime';
import { eventually } from '../support/eventually';

describe('recovery-portal notice (CLI, in process, against the test database)', () => {
  let portal: TestPortal;
  let stopSync: () => Promise<void>;
  const saved = { ...process.env };

  beforeAll(async () => {
    portal = await startTestPortal();
    stopSync = await feature.start!(portal.ctx);
    // the CLI reads the same environment the server does; its own DATA_DIR, as on another host
    Object.assign(process.env, { DATABASE_URL: portal.db.url, DATA_DIR: tempDir(), LOG_LEVEL: 'silent', NODE_ENV: 'test' });
  });
  afterAll(async () => {
    process.env = saved;
    await stopSync();
    await portal.close();
  });

  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
    try {
      const code = await runCliInProcess(['node', 'recovery-portal', ...args]);
      return { code, out, err };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }

  async function seenByServer(pred: (titles: string[]) => boolean): Promise<void> {
    await eventually(() => pred(runtimeFor(portal.ctx).snapshot.active.map((n) => n.title.ja)), 2000);
  }

  it('publishes, updates, resolves and lists; the running portal follows within 2 s', async () => {
    const pub = await cli('notice', 'publish', '--severity', 'critical', '--title-ja', 'CLIからの障害', '--body-ja', 'シェルから公開', '--title-en', 'From the CLI', '--body-en', 'Published from the shell');
    expect(pub.err).toBe('');
    expect(pub.code).toBe(0);
    const id = Number(pub.out.trim());
    expect(Number.isInteger(id)).toBe(true);
    await seenByServer((t) => t.includes('CLIからの障害'));

    const upd = await cli('notice', 'update', String(id), '--body-ja', '原因を特定', '--body-en', 'Found it', '--state', 'identified');
    expect(upd.code).toBe(0);
    expect(upd.out).toMatch(new RegExp(`notice ${id} updated \\(version \\d+\\)`));
    const live = runtimeFor(portal.ctx);
    await eventually(() => live.snapshot.active.find((n) => n.id === id)?.state === 'identified', 2000);
    expect(live.snapshot.active.find((n) => n.id === id)?.message.en).toBe('<p>Found it</p>');

    const res = await cli('notice', 'resolve', String(id));
    expect(res.code).toBe(0);
    await seenByServer((t) => !t.includes('CLIからの障害'));

    const list = await cli('notice', 'list', '--json');
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.out);
    expect(rows.find((r: { id: number }) => r.id === id)).toMatchObject({ state: 'resolved', severity: 'critical', published: true, title_en: 'From the CLI' });
    const audit = await portal.ctx.knex('portal.audit_log').where({ target: `notice:${id}` }).orderBy('id');
    expect(audit.map((a) => a.action)).toEqual(['notice.create', 'notice.publish', 'notice.update', 'notice.update']);
    expect(audit[0].actor).toMatch(/^cli:/);
  });

  it('publishes maintenance with Japan-time start and end', async () => {
    const pub = await cli('notice', 'publish', '--maintenance', '--severity', 'info', '--title-ja', '計画メンテナンス', '--body-ja', '停止します', '--starts', '2026-12-10 01:00', '--ends', '2026-12-10T03:00+09:00');
    expect(pub.code).toBe(0);
    const row = await portal.ctx.knex('portal.notices').where({ id: Number(pub.out.trim()) }).first();
    expect(row).toMatchObject({ kind: 'maintenance', state: 'scheduled' });
    expect(row.starts_at.toISOString()).toBe('2026-12-09T16:00:00.000Z');
    expect(row.ends_at.toISOString()).toBe('2026-12-09T18:00:00.000Z');
  });

  it('runs as the real command (child process) and prints JSON', async () => {
    const { code, stdout } = await runCli(['notice', 'list', '--json'], { env: { LOG_LEVEL: 'silent' } });
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as Array<{ title_ja: string }>;
    expect(rows.map((r) => r.title_ja)).toEqual(expect.arrayContaining(['CLIからの障害', '計画メンテナンス']));
  });

  it('explains bad input and unknown ids with a non-zero exit', async () => {
    const bad = await cli('notice', 'publish', '--severity', 'loud', '--title-ja', 'x', '--body-ja', 'y');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--severity: Severity must be info, warning or critical.');
    const noEnd = await cli('notice', 'publish', '--maintenance', '--severity', 'info', '--title-ja', 'x', '--body-ja', 'y', '--starts', '2026-12-10 01:00');
    expect(noEnd.code).toBe(2);
    expect(noEnd.err).toContain('--ends: Maintenance needs an end time.');
    const missing = await cli('notice', 'resolve', '999999');
    expect(missing.code).toBe(4);
    expect(missing.err).toContain('Notice not found.');
    const wrongState = await cli('notice', 'publish', '--severity', 'info', '--title-ja', 'x', '--body-ja', 'y', '--state', 'completed');
    expect(wrongState.code).toBe(2);
  });
});
