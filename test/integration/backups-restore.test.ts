import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { startTestPortal, type TestPortal } from '../support/portal';
import { runCliSync } from '../support/cli';
import { createTestDatabase } from '../support/database';
import { createKnex } from '../../src/db';
import { buildUser } from '../support/factories';
import { insertCardRow, insertReactionRow, insertSubmissionRow, insertUserCardRow, insertPointsRows } from '../../src/toybox/rows';
import { drillBackup } from '../../src/features/backups/run';
import { backupNow, getBackup } from '../../src/features/backups/service';

/** `recovery-portal backup ...` in a child process, as the operator runs it. */
function cli(portal: TestPortal, args: string[], env: Record<string, string> = {}) {
  return runCliSync(['backup', ...args], { env: { DATABASE_URL: portal.db.url, DATA_DIR: portal.dataDir, ...env } });
}

const TOYBOX_TABLES = ['users', 'user_meta', 'submissions', 'cards', 'user_cards', 'reactions', 'user_points', 'point_history'];

/** Every row of the tables the test filled, as TOYBOX would read them back. */
async function snapshotRows(knex: Knex): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of TOYBOX_TABLES) out[t] = await knex(`public.${t}`).orderBy('id').select('*');
  return out;
}

/** What the incident left: the same tables, empty (TRUNCATE is what `migrate` on an empty volume amounts to). */
async function wipeToybox(knex: Knex): Promise<void> {
  const { rows } = await knex.raw<{ rows: Array<{ tablename: string }> }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
  await knex.raw(`TRUNCATE ${rows.map((r) => `public."${r.tablename}"`).join(', ')} RESTART IDENTITY`);
}

async function fillToybox(knex: Knex): Promise<void> {
  const users = [await buildUser(knex, { is_superuser: true, is_staff: true }), await buildUser(knex), await buildUser(knex, { email: null })];
  const card = await insertCardRow(knex, { code: 'C-001', name: 'はじまりのカード', rarity: 'SR' });
  for (const [i, u] of users.entries()) {
    const sub = await insertSubmissionRow(knex, { author_id: u.id, title: `作品 ${i}`, caption: 'キャプション', hashtags: ['AI', '夏'] });
    await insertSubmissionRow(knex, { author_id: u.id, title: `second ${i}` });
    await insertUserCardRow(knex, u.id, card);
    await insertReactionRow(knex, users[0]!.id, sub, 'like');
    await insertPointsRows(knex, u.id, 100 * (i + 1));
  }
}

describe('backup, wipe, restore (real PostgreSQL, real pg_dump/pg_restore, the real CLI)', () => {
  let portal: TestPortal;
  beforeAll(async () => {
    portal = await startTestPortal({ BACKUP_KEEP_DAILY: '1', BACKUP_KEEP_WEEKLY: '0', BACKUP_KEEP_MONTHLY: '0' });
    await fillToybox(portal.ctx.knex);
  });
  afterAll(() => portal.close());

  it('brings every row back after the TOYBOX tables are wiped', async () => {
    const before = await snapshotRows(portal.ctx.knex);
    expect(before.users).toHaveLength(3);

    const run = cli(portal, ['run']);
    expect(run.stderr).toContain('drill: passed');
    expect(run.code).toBe(0);
    const id = Number(run.stdout.trim());
    expect(Number.isInteger(id)).toBe(true);

    const backup = (await getBackup(portal.ctx, id))!;
    expect(backup.status).toBe('good');
    expect(backup.row_counts).toMatchObject({ users: 3, submissions: 6, user_cards: 3, reactions: 3, user_meta: 3 });
    const manifest = JSON.parse(fs.readFileSync(path.join(portal.config.BACKUP_DIR, backup.dir!, 'manifest.json'), 'utf8'));
    expect(manifest.files[0]).toMatchObject({ name: 'toybox.dump', sha256: backup.files[0]!.sha256 });
    expect(manifest.row_counts.users).toBe(3);
    expect(manifest.tools.pg_dump).toMatch(/^pg_dump \(PostgreSQL\) 15/);

    const listed = JSON.parse(cli(portal, ['list', '--json']).stdout) as Array<{ id: number; status: string }>;
    expect(listed.find((b) => b.id === id)?.status).toBe('good');

    // The target still holds the rows: restore refuses and says why.
    const refused = cli(portal, ['restore', String(id), '--target', portal.db.url]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('refusing without --force');

    await wipeToybox(portal.ctx.knex);
    expect(await portal.ctx.knex('users').count({ n: '*' })).toEqual([{ n: 0 }]);
    // `migrate` refills Django's bookkeeping tables on an empty volume; that must not block the restore.
    await portal.ctx.knex('public.django_migrations').insert({ app: 'users', name: '0001_initial', applied: new Date() });

    const restored = cli(portal, ['restore', String(id), '--target', portal.db.url]);
    expect(restored.stderr).toContain('restoring...');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain(`restore backup ${id}`);
    expect(restored.stdout).toContain('1. in one transaction: empty every table in schema public');
    expect(restored.stdout).toContain('match the manifest (users=3, submissions=6)');

    expect(await snapshotRows(portal.ctx.knex)).toEqual(before);
    // Identities were restored too: TOYBOX's next sign-up does not collide with a restored id.
    const next = await buildUser(portal.ctx.knex);
    expect(next.id).toBeGreaterThan(Math.max(...before.users!.map((u) => (u as { id: number }).id)));

    // A new server: an empty database without TOYBOX's tables gets schema and rows.
    const fresh = await createTestDatabase({ toyboxSchema: false });
    try {
      const r = cli(portal, ['restore', String(id), '--target', fresh.url]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("1. create TOYBOX's tables");
      const knex = createKnex(fresh.url, 1);
      try {
        expect(await snapshotRows(knex)).toEqual(before);
      } finally {
        await knex.destroy();
      }
    } finally {
      await fresh.drop();
    }
  });

  it('catches a corrupted backup file in verify and in the restore drill, and marks it bad', async () => {
    const run = cli(portal, ['run']);
    expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
    const id = Number(run.stdout.trim());
    const backup = (await getBackup(portal.ctx, id))!;
    expect(cli(portal, ['verify', String(id)]).code).toBe(0);

    const file = path.join(portal.config.BACKUP_DIR, backup.dir!, 'toybox.dump');
    const bytes = fs.readFileSync(file);
    for (let i = Math.floor(bytes.length / 3); i < Math.floor(bytes.length / 3) + 64; i++) bytes[i] = bytes[i]! ^ 0xff;
    fs.writeFileSync(file, bytes);

    const verify = cli(portal, ['verify', String(id)]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain('does not match the manifest');

    const drill = await drillBackup(portal.ctx, backup);
    expect(drill.ok).toBe(false);
    expect(drill.checksumOk).toBe(false);
    expect((await getBackup(portal.ctx, id))!.status).toBe('bad');
    const drills = await portal.ctx.knex('portal.backup_drills').where({ backup_id: id }).orderBy('id');
    expect(drills.map((d) => d.ok)).toEqual([true, false]);
    const { rows } = await portal.ctx.knex.raw('SELECT datname FROM pg_database WHERE datname = ANY(?)', [drills.map((d) => d.scratch)]);
    expect(rows).toEqual([]); // the scratch databases are always dropped
  });

  it('marks a backup after a wipe suspect, stops pruning until acknowledged, and audits the acknowledgement', async () => {
    const good = cli(portal, ['run']);
    expect({ code: good.code, stdout: good.stdout, stderr: good.stderr }).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\n$/) });
    const goodId = Number(good.stdout.trim());
    expect((await getBackup(portal.ctx, goodId))!.status).toBe('good');

    await portal.ctx.knex.raw('TRUNCATE public.submissions CASCADE');
    const wiped = cli(portal, ['run']);
    expect({ code: wiped.code, stdout: wiped.stdout, stderr: wiped.stderr }).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\n$/) });
    expect(wiped.stderr).toContain('SUSPECT (submissions: 6 -> 0)');
    expect(wiped.stderr).toContain('pruning stopped');
    const suspectId = Number(wiped.stdout.trim());
    expect((await getBackup(portal.ctx, suspectId))!.status).toBe('suspect');

    // Keep-daily 1 would normally prune the earlier good backup; the suspect one holds it.
    const goodRow = (await getBackup(portal.ctx, goodId))!;
    expect(goodRow.status).toBe('good');
    expect(fs.existsSync(path.join(portal.config.BACKUP_DIR, goodRow.dir!, 'toybox.dump'))).toBe(true);
    const list = cli(portal, ['list']);
    expect(list.stdout).toMatch(new RegExp(`${suspectId}\\s+database\\s+suspect`));
    expect(cli(portal, ['prune']).code).toBe(3);

    const ack = cli(portal, ['acknowledge', String(suspectId)]);
    expect(ack.code).toBe(0);
    const audit = await portal.ctx.knex('portal.audit_log').where({ action: 'backup.acknowledge', target: `backup:${suspectId}` });
    expect(audit).toHaveLength(1);
    expect(audit[0].actor).toMatch(/^cli:/);

    // Acknowledged, yet the last good backup from before the drop stays for BACKUP_WIPE_KEEP_DAYS (30),
    // though keep-daily 1 would delete it: if the acknowledgement was a mistake, the copy is still there.
    const prune = cli(portal, ['prune']);
    expect(prune.code).toBe(0);
    expect((await getBackup(portal.ctx, suspectId))!.status).toBe('good');
    expect((await getBackup(portal.ctx, goodId))!.status).toBe('good');
    expect(fs.existsSync(path.join(portal.config.BACKUP_DIR, goodRow.dir!, 'toybox.dump'))).toBe(true);

    // 30 days after the drop and its acknowledgement, retention has it.
    const monthAgo = new Date(Date.now() - 30 * 86_400_000 - 60_000);
    await portal.ctx.knex('portal.backups').where({ id: suspectId }).update({ started_at: monthAgo, acknowledged_at: monthAgo });
    await portal.ctx.knex('portal.backups').where({ id: goodId }).update({ started_at: new Date(monthAgo.getTime() - 86_400_000) });
    const later = cli(portal, ['prune'], { BACKUP_KEEP_DAILY: '1', BACKUP_KEEP_WEEKLY: '0', BACKUP_KEEP_MONTHLY: '0' });
    expect(later.code).toBe(0);
    expect((await getBackup(portal.ctx, goodId))!.status).toBe('pruned');
    expect(fs.existsSync(path.join(portal.config.BACKUP_DIR, goodRow.dir!))).toBe(false);
  });

  it('leaves the target as it was when a forced restore fails half-way', async () => {
    const backup = (await backupNow(portal.ctx, 'database', { trigger: 'test' }))!;
    expect(['good', 'suspect']).toContain(backup.status);
    // The target's schema moved on (a newer TOYBOX migration): the backup's cards rows no longer fit.
    await portal.ctx.knex.raw("ALTER TABLE public.cards ADD COLUMN series text NOT NULL DEFAULT 'x'");
    await portal.ctx.knex.raw('ALTER TABLE public.cards ALTER COLUMN series DROP DEFAULT');
    const before = await snapshotRows(portal.ctx.knex);
    expect(before.users!.length).toBeGreaterThan(0);
    try {
      const r = cli(portal, ['restore', String(backup.id), '--target', portal.db.url, '--force']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('restore rolled back');
      expect(await snapshotRows(portal.ctx.knex)).toEqual(before);
    } finally {
      await portal.ctx.knex.raw('ALTER TABLE public.cards DROP COLUMN series');
    }
  });
});
