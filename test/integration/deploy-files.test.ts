import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

describe('deployment files', () => {
  it('docker-compose.yml is valid (docker-compose config -q, no engine needed)', () => {
    const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: ROOT,
      env: { ...process.env, POSTGRES_PASSWORD: 'example', PORTAL_SESSION_SECRET: 'x'.repeat(40) },
      encoding: 'utf8',
    });
    expect(r.error).toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the portal service runs on the same database as TOYBOX with a healthcheck on /readyz', () => {
    const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
      cwd: ROOT,
      env: { ...process.env, POSTGRES_PASSWORD: 'example', PORTAL_SESSION_SECRET: 'x'.repeat(40) },
      encoding: 'utf8',
    });
    expect(r.stdout).toMatch(/portal:[\s\S]*DATABASE_URL: postgres:\/\/toybox:example@db:5432\/toybox/);
    expect(r.stdout).toContain('/readyz');
    expect(r.stdout).toContain('portal_data');
  });
});
