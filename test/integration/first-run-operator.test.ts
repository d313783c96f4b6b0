import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { tempDir } from '../support/portal';
import { ROOT, runCliSync } from '../support/cli';
import { startServerProcess } from '../support/server-process';
import { eventually } from '../support/eventually';
import { chooseLogFormat } from '../../src/log-format';

describe('first run for an operator', () => {
  const dir = tempDir('portal-first-run-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('chooses readable logs only for a terminal outside production', () => {
    expect(chooseLogFormat({ isTTY: true, nodeEnv: 'development' })).toBe('pretty');
    expect(chooseLogFormat({ isTTY: false, nodeEnv: 'development' })).toBe('json');
    expect(chooseLogFormat({ isTTY: undefined, nodeEnv: undefined })).toBe('json');
    expect(chooseLogFormat({ isTTY: true, nodeEnv: 'production' })).toBe('json');
    expect(chooseLogFormat({ isTTY: false, nodeEnv: 'production', override: 'pretty' })).toBe('pretty');
  });

  it('the server and the CLI read the same .env (DATA_DIR), and without a terminal the server logs JSON', async () => {
    const dataDir = path.join(dir, 'from-env-file');
    const envFile = path.join(dir, 'portal.env');
    fs.writeFileSync(envFile, `# shared by server and CLI\nDATA_DIR=${dataDir}\nLOG_LEVEL=info\n`);
    const seeded = runCliSync(['seed-demo', '--json'], { cleanEnv: true, env: { ENV_FILE: envFile } });
    expect(seeded.stderr).toBe('');
    expect(JSON.parse(seeded.stdout)).toEqual({ users: 3, created: true });
    expect(fs.existsSync(path.join(dataDir, 'pglite'))).toBe(true);

    const server = await startServerProcess({ ENV_FILE: envFile });
    try {
      // The server opened the DATA_DIR from the file: the CLI now borrows its database, already seeded.
      expect(fs.existsSync(path.join(dataDir, 'portal-socket.json'))).toBe(true);
      const again = runCliSync(['seed-demo', '--json'], { cleanEnv: true, env: { ENV_FILE: envFile } });
      expect(JSON.parse(again.stdout)).toEqual({ users: 3, created: false });
      const lines = server.output().trim().split('\n');
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
      expect(server.output()).not.toContain('┌');
    } finally {
      await server.stop();
    }
    const missing = runCliSync(['seed-demo'], { cleanEnv: true, env: { ENV_FILE: path.join(dir, 'nope.env') } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^configuration error: ENV_FILE cannot be read/);
  }, 120_000);

  it('at a terminal the server prints readable lines and the setup address and token file in a box', async () => {
    const dataDir = path.join(dir, 'tty');
    // script(1) gives the server a pseudo-terminal, as an operator's shell does.
    const command = `${process.execPath} --import tsx src/main.ts`;
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', NODE_ENV: 'development', LOG_FORMAT: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await eventually(() => /recovery portal listening/.test(out) && out.includes('└'), 60_000, 100);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
    expect(plain).not.toContain('{"level"');
    expect(plain).toMatch(/\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] INFO: recovery portal listening/);
    expect(plain).toMatch(/┌─+┐/);
    expect(plain).toContain('1. Open       http://localhost:0/setup');
    expect(plain).toContain(`2. Enter the setup token from ${path.join(dataDir, 'bootstrap-token')}`);
  }, 90_000);

  it('npm ci prints no install-script warnings (the decisions are recorded in package.json allowScripts)', () => {
    const r = spawnSync('npm', ['ci', '--dry-run', '--no-audit', '--no-fund'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/npm warn install-scripts/i);
  }, 70_000);
});
