import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { startTestPortal, tempDir, type TestPortal } from '../support/portal';
import { addMedia } from '../../src/features/salvage/service';
import { OLD_TS } from '../support/salvage-fixtures';

const ROOT = path.resolve(__dirname, '..', '..');
const POSTS = 300;

describe('a restore killed with SIGKILL (the real CLI in a child process)', () => {
  let portal: TestPortal;
  let work: string;
  let media: string;
  const env = () => ({ ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: portal.db.url, DATA_DIR: portal.dataDir, NODE_ENV: 'test', TOYBOX_MEDIA_DIR: media });
  const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'claims', ...args], { cwd: ROOT, env: env(), encoding: 'utf8', timeout: 120_000 });

  beforeAll(async () => {
    work = tempDir('claims-crash-');
    media = path.join(work, 'live');
    fs.mkdirSync(media);
    portal = await startTestPortal({ TOYBOX_MEDIA_DIR: media });
    const tree = path.join(work, 'old', 'submissions');
    fs.mkdirSync(tree, { recursive: true });
    for (let i = 0; i < POSTS; i++) fs.writeFileSync(path.join(tree, `50_${OLD_TS + i}.mp4`), crypto.randomBytes(256 * 1024));
    await addMedia(portal.ctx, path.join(work, 'old'), { era: 'auto' });
    const knex = portal.ctx.knex;
    const [src] = await knex('portal.salvage_sources').insert({ kind: 'database', locator: 'old.dump', fingerprint: 'crash-fixture', status: 'complete' }).returning('id');
    const schema = `salvage_${Number(src.id)}`;
    await knex('portal.salvage_sources').where({ id: src.id }).update({ schema_name: schema });
    await knex.raw(`CREATE SCHEMA ${schema}`);
    await knex.raw(`CREATE TABLE ${schema}.users (LIKE public.users INCLUDING DEFAULTS INCLUDING IDENTITY)`);
    await knex.withSchema(schema).table('users').insert({ id: 50, display_id: 'taka', email: null, password: '!', role: 'FREE_USER', is_suspended: false, warning_count: 0, is_active: true, is_staff: false, is_superuser: false, created_at: new Date(OLD_TS * 1000), updated_at: new Date(OLD_TS * 1000) });
  });

  afterAll(async () => {
    await portal?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('whenever the kill lands: rows all or nothing, every row has its file, and a re-run finishes with no stray copy and undo removes every file', async () => {
    const knex = portal.ctx.knex;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'claims', 'restore-account', '50'], { cwd: ROOT, env: env(), stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const dir = path.join(media, 'submissions');
    // Kill as soon as the first copy shows up in TOYBOX's uploads (mid-restore, before COMMIT, in practice).
    while (child.exitCode === null && !(fs.existsSync(dir) && fs.readdirSync(dir).length > 0)) await new Promise((r) => setTimeout(r, 2));
    child.kill('SIGKILL');
    await exited;

    const user = await knex('public.users').where({ old_id: '50' }).first();
    const posts = user ? await knex('public.submissions').where({ author_id: user.id }) : [];
    expect([0, POSTS]).toContain(posts.length);
    for (const p of posts) expect(fs.existsSync(path.join(media, p.video_url.replace(/^https?:\/\/[^/]+\/uploads\//, '')))).toBe(true);

    const again = cli(['restore-account', '50']);
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
    const restored = await knex('public.users').where({ old_id: '50' }).first();
    expect(await knex('public.submissions').where({ author_id: restored.id })).toHaveLength(POSTS);
    const onDisk = fs.readdirSync(dir).sort();
    expect(onDisk).toHaveLength(POSTS); // copies the killed run left were adopted, not duplicated
    const recorded = (await knex('portal.restore_writes as w').join('portal.restores as r', 'r.id', 'w.restore_id').where({ 'r.user_id': restored.id, 'w.op': 'file' }).select('w.file_path')).map((w: { file_path: string }) => path.basename(w.file_path)).sort();
    expect(recorded).toEqual(onDisk);

    const restore = await knex('portal.restores').where({ user_id: restored.id, status: 'done' }).first();
    expect(cli(['undo', String(restore.id)]).status).toBe(0);
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(await knex('public.submissions').where({ author_id: restored.id })).toHaveLength(0);
  });
});
