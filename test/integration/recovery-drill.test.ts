import fs from 'node:fs';
import path from 'node:path';
import { startTestPortal, type TestPortal } from '../support/portal';
import { buildUser } from '../support/factories';
import { backupNow } from '../../src/features/backups/service';
import { watchCli } from '../support/cli';
import { eventually } from '../support/eventually';

/**
 * `recovery-portal drill` as a real child process on real PostgreSQL: the
 * runbook rehearsed on a copy restored from the latest backup; the live
 * database unchanged, and nothing left behind after success or SIGINT.
 */
describe('recovery-portal drill', () => {
  let portal: TestPortal;

  beforeAll(async () => {
    portal = await startTestPortal();
    for (let i = 0; i < 3; i += 1) await buildUser(portal.ctx.knex);
    expect((await backupNow(portal.ctx, 'database', { trigger: 'test' }))!.status).toBe('good');
  });
  afterAll(async () => {
    await portal.close();
  });

  const startDrill = () =>
    watchCli(['drill'], { cleanEnv: true, env: { DATABASE_URL: portal.db.url, DATA_DIR: portal.dataDir, LOG_LEVEL: 'silent' } });

  const scratchOf = (out: string) => {
    const m = /rehearsal on scratch database (portal_rehearsal_[a-z0-9_]+), scratch directory (\S+)/.exec(out);
    if (!m) throw new Error(`no scratch names in: ${out}`);
    return { database: m[1]!, dir: m[2]! };
  };

  async function databaseExists(name: string): Promise<boolean> {
    return (await portal.ctx.knex.raw<{ rows: unknown[] }>('SELECT 1 FROM pg_database WHERE datname = ?', [name])).rows.length > 0;
  }

  async function liveState() {
    const k = portal.ctx.knex;
    const count = async (table: string) => Number((await k(table).count<Array<{ n: string }>>({ n: '*' }))[0]!.n);
    return { users: await count('public.users'), notices: await count('portal.notices'), addresses: await count('portal.addresses'), campaigns: await count('portal.campaigns'), backups: await count('portal.backups') };
  }

  it('rehearses every step on a copy, prints each time and the total, and leaves nothing behind', async () => {
    const before = await liveState();
    const run = startDrill();
    const code = await run.exited;
    if (code !== 0) throw new Error(`drill exited ${code}\n${run.out()}\n${run.err()}`);
    const out = run.out();
    // Kept for people to read (test/artifacts is git-ignored).
    fs.mkdirSync(path.resolve(__dirname, '..', 'artifacts'), { recursive: true });
    fs.writeFileSync(path.resolve(__dirname, '..', 'artifacts', 'recovery-drill-output.txt'), out);
    const { database, dir } = scratchOf(out);
    for (const step of ['find the latest good backup', 'restore backup #', 'doctor', 'admin create', 'notice publish', 'addresses import', 'campaign create', 'campaign send (to the scratch outbox)', 'backup run', 'backup verify latest --drill', 'backup test-alert (to the outbox)']) {
      expect(out).toMatch(new RegExp(`^\\s*\\d+\\. ${step.replace(/[()#]/g, '\\$&')}.*\\d+\\.\\d s  exit \\d+`, 'm'));
    }
    expect(out).toMatch(/campaign send \(to the scratch outbox\).*exit 0 {2}completed: sent 20, failed 0/);
    expect(out).toMatch(/^total \d+\.\d s: every step passed$/m);
    expect(out).toContain(`dropped scratch database ${database}`);
    expect(await databaseExists(database)).toBe(false);
    expect(fs.existsSync(dir)).toBe(false);
    // The live portal saw none of it.
    expect(await liveState()).toEqual(before);
  });

  it('after SIGINT mid-way: exit 130, the copy and its directory removed', async () => {
    const run = startDrill();
    await eventually(() => /admin create/.test(run.out()), 60_000);
    const { database, dir } = scratchOf(run.out());
    expect(await databaseExists(database)).toBe(true);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.err()).toContain('SIGINT: stopping the current step and removing the copy');
    expect(run.out()).toContain(`dropped scratch database ${database}`);
    expect(await databaseExists(database)).toBe(false);
    expect(fs.existsSync(dir)).toBe(false);
  });
});
