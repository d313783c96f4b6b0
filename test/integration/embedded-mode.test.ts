import path from 'node:path';
import fs from 'node:fs';
import supertest from 'supertest';
import { tempDir, csrfFrom } from '../support/portal';
import { runCliSync } from '../support/cli';
import { startServerProcess, type ServerProcess } from '../support/server-process';


function cli(args: string[], env: Record<string, string>) {
  return runCliSync(args, { env: { DATABASE_URL: '', ...env }, timeoutMs: 60_000 });
}

describe('embedded mode (no DATABASE_URL), end to end', () => {
  const dataDir = tempDir('portal-embedded-');
  let server: ServerProcess | null = null;
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('seeds demo data, serves the portal on PGlite, and lets the demo admin sign in', async () => {
    const seeded = cli(['seed-demo', '--json'], { DATA_DIR: dataDir });
    expect(seeded.stderr).toBe('');
    expect(JSON.parse(seeded.stdout)).toEqual({ users: 3, created: true });
    expect(fs.existsSync(path.join(dataDir, 'pglite'))).toBe(true);

    server = await startServerProcess({ DATA_DIR: dataDir });
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
