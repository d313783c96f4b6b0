import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import supertest from 'supertest';
import { tempDir, csrfFrom } from '../support/portal';
import { ROOT, runCliSync } from '../support/cli';


function cli(args: string[], env: Record<string, string>) {
  return runCliSync(args, { env: { DATABASE_URL: '', ...env }, timeoutMs: 60_000 });
}

/** Starts the real server process as `npm start` does and resolves with its port once it listens. */
function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 45_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"port":(\d+).*recovery portal listening/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
}

describe('embedded mode (no DATABASE_URL), end to end', () => {
  const dataDir = tempDir('portal-embedded-');
  let server: { child: ChildProcess; port: number } | null = null;
  afterAll(() => {
    server?.child.kill('SIGTERM');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('seeds demo data, serves the portal on PGlite, and lets the demo admin sign in', async () => {
    const seeded = cli(['seed-demo', '--json'], { DATA_DIR: dataDir });
    expect(seeded.stderr).toBe('');
    expect(JSON.parse(seeded.stdout)).toEqual({ users: 3, created: true });
    expect(fs.existsSync(path.join(dataDir, 'pglite'))).toBe(true);

    server = await startServer({ DATA_DIR: dataDir });
    const http = supertest.agent(`http://127.0.0.1:${server.port}`);
    const home = await http.get('/');
    expect(home.status).toBe(200);
    expect(home.text).toContain('TOYBOX のデータが失われました');
    expect((await http.get('/readyz')).body.status).toBe('ready');

    const login = await http.get('/login');
    const res = await http.post('/login').type('form').send({ _csrf: csrfFrom(login.text), login: 'demo_admin', password: 'demo-password-2026' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin');
    expect((await http.get('/admin')).status).toBe(200);

    // The CLI shares the running server's embedded database instead of opening it twice.
    const again = cli(['seed-demo', '--json'], { DATA_DIR: dataDir });
    expect(JSON.parse(again.stdout)).toEqual({ users: 3, created: false });
  });
});
