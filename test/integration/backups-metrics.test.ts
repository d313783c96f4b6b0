import { startTestPortal, type TestPortal } from '../support/portal';
import { buildUser } from '../support/factories';
import { backupNow } from '../../src/features/backups/service';

const TOKEN = 'metrics-token-0123456789abcdef';

describe('GET /metrics', () => {
  let portal: TestPortal;
  beforeAll(async () => {
    // No proxy in front: a loopback scrape is local (with the default TRUST_PROXY=loopback it needs the token, see trust-proxy.test.ts).
    portal = await startTestPortal({ METRICS_TOKEN: TOKEN, TRUST_PROXY: 'false' });
    await buildUser(portal.ctx.knex);
  });
  afterAll(() => portal.close());

  it('answers a direct loopback scrape or the bearer token, and nobody coming through a proxy', async () => {
    const agent = portal.agent();
    expect((await agent.get('/metrics')).status).toBe(200);
    const proxied = await agent.get('/metrics').set('X-Forwarded-For', '203.0.113.9');
    expect(proxied.status).toBe(401);
    expect(proxied.text).not.toContain('portal_');
    const wrong = await agent.get('/metrics').set('X-Forwarded-For', '203.0.113.9').set('Authorization', 'Bearer wrong-token-wrong-token');
    expect(wrong.status).toBe(403);
    const right = await agent.get('/metrics').set('X-Forwarded-For', '203.0.113.9').set('Authorization', `Bearer ${TOKEN}`);
    expect(right.status).toBe(200);
    expect(right.headers['content-type']).toContain('text/plain');
  });

  it('reports the database, directories, last good backup and last drill', async () => {
    const before = (await portal.agent().get('/metrics')).text;
    expect(before).toContain('portal_database_up 1');
    expect(before).toContain('portal_dir_writable{dir="BACKUP_DIR"} 1');
    expect(before).toContain('portal_dir_writable{dir="DATA_DIR"} 1');
    expect(before).toMatch(/portal_dir_free_ratio\{dir="DATA_DIR"\} 0\.\d+/);
    expect(before).not.toMatch(/portal_backup_last_good_age_seconds\{/);
    expect(before).not.toMatch(/^portal_backup_last_drill_success/m); // no drill yet is not a failed drill

    // A drill killed 7 hours ago left its scratch database: the next drill sweeps it.
    const stale = `portal_drill_${(Date.now() - 7 * 3600_000).toString(36)}_dead01`;
    await portal.ctx.knex.raw(`CREATE DATABASE "${stale}"`);
    const backup = await backupNow(portal.ctx, 'database', { trigger: 'test' });
    expect(backup!.status).toBe('good');
    const left = await portal.ctx.knex.raw('SELECT datname FROM pg_database WHERE datname = ?', [stale]);
    expect(left.rows).toEqual([]);
    const after = (await portal.agent().get('/metrics')).text;
    const age = Number(/portal_backup_last_good_age_seconds\{kind="database"\} ([\d.e+-]+)/.exec(after)?.[1]);
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(120);
    expect(after).toContain('portal_backup_last_drill_success{kind="database"} 1');
    expect(after).toContain('portal_backup_suspect_unacknowledged 0');
  });

  it('counts campaign recipients and export jobs by status, and tolerates their tables being absent', async () => {
    const knex = portal.ctx.knex;
    // Another feature owns portal.export_jobs; a minimal stand-in exercises the query without depending on its columns.
    await knex.raw('ALTER TABLE IF EXISTS portal.export_jobs RENAME TO export_jobs_hidden_by_test');
    try {
      const absent = await portal.agent().get('/metrics');
      expect(absent.status).toBe(200);
      expect(absent.text).not.toContain('portal_feature_table_present{table="export_jobs"}');
      await knex.raw('CREATE TABLE portal.export_jobs (id serial PRIMARY KEY, status text NOT NULL)');
      await knex.raw("INSERT INTO portal.export_jobs (status) VALUES ('done'), ('done'), ('queued')");
      const text = (await portal.agent().get('/metrics')).text;
      expect(text).toContain('portal_feature_table_present{table="export_jobs"} 1');
      expect(text).toContain('portal_feature_rows{table="export_jobs",status="done"} 2');
      expect(text).toContain('portal_feature_rows{table="export_jobs",status="queued"} 1');
    } finally {
      await knex.raw('DROP TABLE IF EXISTS portal.export_jobs');
      await knex.raw('ALTER TABLE IF EXISTS portal.export_jobs_hidden_by_test RENAME TO export_jobs');
    }
  });
});
