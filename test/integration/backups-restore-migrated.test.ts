import type { Knex } from 'knex';
import { startTestPortal, type TestPortal } from '../support/portal';
import { buildUser } from '../support/factories';
import { insertSubmissionRow } from '../../src/toybox/rows';
import { MIGRATION_TITLES } from '../../src/toybox/migration-rows';
import { runCliSync } from '../support/cli';


/** `recovery-portal backup ...` in a child process, as the operator runs it. */
function cli(portal: TestPortal, args: string[]) {
  return runCliSync(['backup', ...args], { env: { DATABASE_URL: portal.db.url, DATA_DIR: portal.dataDir } });
}

/**
 * What `manage.py migrate` leaves in an empty database (NOTES.md): Django's content types and permissions,
 * TOYBOX's release-note announcements (no author) and its 19 titles, written as those migrations write them.
 */
async function migrateEmpty(knex: Knex): Promise<void> {
  const { rows } = await knex.raw<{ rows: Array<{ tablename: string }> }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
  await knex.raw(`TRUNCATE ${rows.map((r) => `public."${r.tablename}"`).join(', ')} RESTART IDENTITY`);
  await knex('django_migrations').insert({ app: 'frontend', name: '0008_announcement_v224', applied: new Date() });
  const [ct] = await knex('django_content_type').insert({ app_label: 'users', model: 'user' }).returning('id');
  await knex('auth_permission').insert({ name: 'Can add user', content_type_id: ct.id, codename: 'add_user' });
  for (const version of ['2.23', '2.24']) {
    await knex('announcements').insert({ title: `TOYBOX! Ver ${version} アップデートのお知らせ`, content: `TOYBOX! を Ver ${version} にアップデートしました。`, is_active: true, created_by_id: null, created_at: new Date(), updated_at: new Date() });
  }
  for (const name of MIGRATION_TITLES) {
    await knex('titles').insert({ name, color: '#22c55e', duration_days: 0, created_at: new Date(), updated_at: new Date() });
  }
}

describe('restore into a freshly migrated TOYBOX database', () => {
  let portal: TestPortal;
  let backupId: number;
  beforeAll(async () => {
    portal = await startTestPortal({ BACKUP_KEEP_DAILY: '1', BACKUP_KEEP_WEEKLY: '0', BACKUP_KEEP_MONTHLY: '0' });
    await migrateEmpty(portal.ctx.knex);
    const u = await buildUser(portal.ctx.knex);
    await buildUser(portal.ctx.knex);
    await insertSubmissionRow(portal.ctx.knex, { author_id: u.id, title: '夏の作品' });
    const run = cli(portal, ['run']);
    expect(run.code).toBe(0);
    backupId = Number(run.stdout.trim());
  });
  afterAll(() => portal.close());

  it('counts "only what migrations write" as empty, says so in the plan, and restores without --force', async () => {
    await migrateEmpty(portal.ctx.knex);
    const r = cli(portal, ['restore', String(backupId), '--target', portal.db.url]);
    expect(r.stderr).not.toContain('refusing');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      "note: the target holds only what TOYBOX's own migrations write (2 announcements, 19 titles, plus Django's content types and permissions): treated as empty; the backup brings its own copies",
    );
    expect(r.stdout).toContain('1. in one transaction: empty every table in schema public');
    expect(r.stdout).toContain('match the manifest (users=2, submissions=1)');
    // Replaced, not doubled: the backup's own copies of the migration rows.
    expect(await portal.ctx.knex('titles').count({ n: '*' })).toEqual([{ n: 19 }]);
    expect(await portal.ctx.knex('announcements').count({ n: '*' })).toEqual([{ n: 2 }]);
    expect(await portal.ctx.knex('users').count({ n: '*' })).toEqual([{ n: 2 }]);
  });

  it('still refuses when anything beyond the migrations\' rows is there (a staff announcement, a custom title)', async () => {
    await migrateEmpty(portal.ctx.knex);
    await portal.ctx.knex('titles').insert({ name: '運営スタッフ', color: '#000', duration_days: 0, created_at: new Date(), updated_at: new Date() });
    const dry = cli(portal, ['restore', String(backupId), '--target', portal.db.url, '--dry-run']);
    expect(dry.code).toBe(3);
    expect(dry.stderr).toContain("The target holds 1 TOYBOX rows besides what TOYBOX's migrations write (2 announcements, 19 titles) in titles; refusing without --force");

    await migrateEmpty(portal.ctx.knex);
    const staff = await buildUser(portal.ctx.knex, { is_staff: true });
    await portal.ctx.knex('announcements').insert({ title: 'TOYBOX! Ver 9.9 アップデートのお知らせ', content: '手書き', is_active: true, created_by_id: staff.id, created_at: new Date(), updated_at: new Date() });
    const refused = cli(portal, ['restore', String(backupId), '--target', portal.db.url]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain("The target holds 3 TOYBOX rows besides what TOYBOX's migrations write (2 announcements, 19 titles) in announcements, user_meta, users; refusing without --force");
  });
});
