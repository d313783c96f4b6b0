import { startTestPortal, type TestPortal } from '../support/portal';
import { backupNow } from '../../src/features/backups/service';
import { watchCli } from '../support/cli';
import { eventually } from '../support/eventually';

/**
 * `backup verify latest --drill` is the restore drill from the latest backup,
 * as a real child process on real PostgreSQL: it must leave no scratch
 * database behind when it succeeds, nor when SIGINT stops it half-way.
 */
describe('restore drill from the latest backup leaves nothing behind', () => {
  let portal: TestPortal;
  let backupId: number;

  beforeAll(async () => {
    portal = await startTestPortal();
    // Enough rows that pg_restore takes a moment: the interrupt must land mid-restore.
    await portal.ctx.knex.raw(`
      INSERT INTO public.users (email, display_id, password, role, avatar_url, is_suspended, warning_count, is_active, is_staff, is_superuser, created_at, updated_at)
      SELECT 'u' || g || '@example.com', 'u' || g, 'x', 'FREE_USER', NULL, false, 0, true, false, false, now(), now() FROM generate_series(1, 150000) g`);
    const backup = (await backupNow(portal.ctx, 'database', { trigger: 'test' }))!;
    expect(backup.status).toBe('good');
    backupId = backup.id;
  });
  afterAll(async () => {
    await portal.close();
  });

  const startDrill = () =>
    watchCli(['backup', 'verify', 'latest', '--drill'], { cleanEnv: true, env: { DATABASE_URL: portal.db.url, DATA_DIR: portal.dataDir, LOG_LEVEL: 'silent' } });

  async function databaseExists(name: string): Promise<boolean> {
    const r = await portal.ctx.knex.raw<{ rows: unknown[] }>('SELECT 1 FROM pg_database WHERE datname = ?', [name]);
    return r.rows.length > 0;
  }

  const scratchIn = (stderr: string) => /scratch database \((portal_drill_[a-z0-9_]+)\)/.exec(stderr)?.[1] ?? null;

  it('after success: OK, the drill recorded, its scratch database gone', async () => {
    const run = startDrill();
    expect(await run.exited).toBe(0);
    expect(run.out()).toBe(`backup ${backupId}: OK\n`);
    const scratch = scratchIn(run.err());
    expect(scratch).not.toBeNull();
    expect(await databaseExists(scratch!)).toBe(false);
    const drill = await portal.ctx.knex('portal.backup_drills').where({ scratch }).first();
    expect(drill).toMatchObject({ backup_id: backupId, ok: true });
    expect(drill.actual.users).toBe(150000);
  });

  it('after SIGINT mid-restore: exit 130, scratch database dropped, drill row closed as interrupted', async () => {
    const run = startDrill();
    // Wait until the scratch database really exists (CREATE DATABASE done, pg_restore under way).
    let scratch: string | null = null;
    await eventually(async () => (scratch = scratchIn(run.err())) !== null && (await databaseExists(scratch)), 30_000, 10);
    expect(scratch).not.toBeNull();
    expect(await databaseExists(scratch!)).toBe(true);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    // The drill's own failure line may land between the two (pg_restore sees its database vanish).
    const err = run.err();
    expect(err).toContain("SIGINT: dropping the drill's scratch database\n");
    expect(err).toContain(`dropped ${scratch}\n`);
    expect(err.indexOf(`dropped ${scratch}`)).toBeGreaterThan(err.indexOf('SIGINT: dropping'));
    expect(err).not.toContain('drill: FAILED'); // the interruption is not the backup's fault
    expect((await portal.ctx.knex('portal.backups').where({ id: backupId }).first()).status).toBe('good');
    expect(await databaseExists(scratch!)).toBe(false);
    const drill = await portal.ctx.knex('portal.backup_drills').where({ scratch }).first();
    expect(drill.finished_at).not.toBeNull();
    expect(drill.ok).toBe(false);
    expect(drill.error).toContain('interrupted');
    // The backup itself is untouched by the interruption.
    expect((await portal.ctx.knex('portal.backups').where({ id: backupId }).first()).status).toBe('good');
  });
});
