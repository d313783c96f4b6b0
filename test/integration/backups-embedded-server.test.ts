import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import supertest from 'supertest';
import { tempDir, csrfFrom } from '../support/portal';
import { runCli, runCliSync } from '../support/cli';
import { startServerProcess, type ServerProcess } from '../support/server-process';
import { eventually } from '../support/eventually';

/**
 * Embedded mode with the server running: the PGlite files belong to the
 * server process, so `backup run` from the CLI must have the server make the
 * backup, and the admin pages must stay usable while it does.
 */
describe('backups in embedded mode while the server runs', () => {
  const dataDir = tempDir('portal-embedded-live-');
  const env = { DATABASE_URL: '', DATA_DIR: dataDir };
  let server: ServerProcess | null = null;
  let db: pg.Client;
  afterAll(async () => {
    await db?.end().catch(() => undefined);
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  beforeAll(async () => {
    expect(runCliSync(['seed-demo'], { env }).code).toBe(0);
    server = await startServerProcess(env);
    const { url } = JSON.parse(fs.readFileSync(path.join(dataDir, 'portal-socket.json'), 'utf8')) as { url: string };
    db = new pg.Client({ connectionString: url });
    await db.connect();
  }, 90_000);

  async function signedInAdmin() {
    const http = supertest.agent(`http://127.0.0.1:${server!.port}`);
    const login = await http.get('/login');
    const res = await http.post('/login').type('form').send({ _csrf: csrfFrom(login.text), login: 'demo_admin', password: 'demo-password-2026' });
    expect(res.status).toBe(303);
    return http;
  }

  it('`backup run` from the CLI has the server make a good backup, while admins stay signed in', async () => {
    const http = await signedInAdmin();
    const cli = runCli(['backup', 'run'], { env, timeoutMs: 120_000 });
    let done = false;
    void cli.finally(() => (done = true));
    const seen: number[] = [];
    while (!done) {
      const page = await http.get('/admin/backups');
      seen.push(page.status);
      expect(`${page.status} ${page.headers.location ?? ""}`).toBe("200 "); // never a 303 to /login, never a 500
      await new Promise((r) => setTimeout(r, 150));
    }
    const result = await cli;
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+|PGlite database/);
    expect(result.code).toBe(0);
    const id = Number(result.stdout.trim());
    expect(id).toBeGreaterThan(0);
    expect(seen.length).toBeGreaterThan(1);
    const row = (await db.query('SELECT status, trigger FROM portal.backups WHERE id = $1', [id])).rows[0];
    expect(row).toEqual({ status: 'good', trigger: 'cli' });
    const listed = runCliSync(['backup', 'list', '--json'], { env });
    expect(JSON.parse(listed.stdout)[0]).toMatchObject({ id, status: 'good' });
  }, 120_000);

  it('a backup started from the web keeps the admin signed in until it is done', async () => {
    const http = await signedInAdmin();
    const before = Number((await db.query('SELECT coalesce(max(id), 0) AS n FROM portal.backups')).rows[0].n);
    const page = await http.get('/admin/backups');
    const run = await http.post('/admin/backups/run').type('form').send({ _csrf: csrfFrom(page.text), kind: 'database' });
    expect(run.status).toBe(303);
    expect(run.headers.location).toBe('/admin/backups?done=started');
    await eventually(async () => {
      const res = await http.get('/admin/backups');
      expect(res.status).toBe(200);
      const rows = (await db.query("SELECT status FROM portal.backups WHERE id > $1 AND status <> 'running'", [before])).rows;
      return rows.length > 0;
    }, 90_000, 150);
    const done = (await db.query('SELECT status, error FROM portal.backups WHERE id > $1', [before])).rows;
    expect(done).toEqual([{ status: 'good', error: null }]);
    expect((await http.get('/admin')).status).toBe(200);
  }, 120_000);

  it('a failed backup exits 1 with one line and raises the backup_failed alert', async () => {
    // A file where the backup directory must go makes the next database backup fail.
    const backupDir = path.join(dataDir, 'backups', 'database');
    fs.renameSync(backupDir, `${backupDir}.moved`);
    fs.writeFileSync(backupDir, 'not a directory');
    try {
      const result = await runCli(['backup', 'run'], { env, timeoutMs: 120_000 });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^error: backup \d+ failed: /m);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      const alerts = await db.query("SELECT condition FROM portal.alerts WHERE cleared_at IS NULL AND condition = 'backup_failed'");
      expect(alerts.rows).toHaveLength(1);
    } finally {
      fs.rmSync(backupDir, { force: true });
      fs.renameSync(`${backupDir}.moved`, backupDir);
    }
  }, 120_000);

  it('a backup error on a Japanese page is in Japanese', async () => {
    const http = await signedInAdmin();
    const page = await http.get('/admin/backups');
    const res = await http.post('/admin/backups/run').type('form').set('accept-language', 'ja').send({ _csrf: csrfFrom(page.text), kind: 'media' });
    expect(res.status).toBe(409);
    expect(res.text).toContain('TOYBOX_MEDIA_DIR');
    expect(res.text).toMatch(/[\u3040-\u30ff]/);
    expect(res.text).not.toContain('is not set, so there are no media');

    // The failed backup of the test above reads as 失敗, its raw error marked as an English technical detail.
    const list = await http.get('/admin/backups').set('accept-language', 'ja');
    expect(list.text).toMatch(/data-status="failed">失敗<\/span> <small>エラー（技術的な詳細・英語）: <code lang="en">/);
    expect(list.text).not.toContain('テスト通知を送れませんでした');
  });
});
