import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseConfig, ConfigError } from '../../src/config';

const ROOT = path.resolve(__dirname, '..', '..');

describe('configuration', () => {
  it('uses the documented defaults', () => {
    const c = parseConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.embedded).toBe(true);
    expect(c.PUBLIC_URL).toBe('http://localhost:3000');
    expect(c.BACKUP_DIR).toBe(path.join(c.DATA_DIR, 'backups'));
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('takes several TOYBOX origins separated by commas; the first is the site', () => {
    const c = parseConfig({ TOYBOX_URL: 'https://toybox.example/, https://www.toybox.example:8443/path' });
    expect(c.TOYBOX_URL).toBe('https://toybox.example');
    expect(c.TOYBOX_API_URL).toBe('https://toybox.example');
    expect(c.TOYBOX_ORIGINS).toEqual(['https://toybox.example', 'https://www.toybox.example:8443']);
    expect(parseConfig({}).TOYBOX_ORIGINS).toEqual(['http://localhost:8000']);
    expect(() => parseConfig({ TOYBOX_URL: 'https://toybox.example,,https://b.example' })).toThrow(/TOYBOX_URL must be an absolute URL .* or several separated by commas/);
    expect(() => parseConfig({ TOYBOX_URL: 'toybox.example' })).toThrow(/TOYBOX_URL must be an absolute URL/);
  });

  it('names the variable and the problem', () => {
    expect(() => parseConfig({ PORT: 'abc' })).toThrow(new ConfigError('PORT', 'must be a number'));
    expect(() => parseConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL must be a postgres/);
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(/SESSION_SECRET is required/);
    expect(() => parseConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL must be one of/);
  });

  it('stops the server with one line and exit code 2 on a bad value', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: '70000', DATABASE_URL: '' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('configuration error: PORT must be between 0 and 65535');
  });
});
