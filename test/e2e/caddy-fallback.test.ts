import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import http from 'node:http';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { tempDir } from '../support/portal';
import { launchBrowser, artifact } from '../support/browser';

/**
 * The portal-down fallback, for real: Caddy (Debian's 2.6) runs the repo's
 * own Caddyfile, only its {$VAR} placeholders set to local http:// addresses
 * (no certificates), in front of the portal as a real child process. The
 * portal publishes a notice, is killed with SIGKILL, and Caddy keeps serving
 * /banner.js and /api/notice from DATA_DIR/public with TOYBOX's CORS and the
 * cache headers; the banner still renders on a TOYBOX page in Chromium.
 */
const ROOT = path.resolve(__dirname, '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('Caddy serves the last published notice when the portal is killed', () => {
  let db: TestDatabase;
  let dataDir: string;
  let caddyHome: string;
  let portal: ChildProcess;
  let caddy: ChildProcess;
  let host: http.Server;
  let browser: Browser;
  let portalSite: string;
  let toyboxSite: string;
  let env: NodeJS.ProcessEnv;
  let caddyLog = '';

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = tempDir('caddy-data-');
    caddyHome = tempDir('caddy-home-');
    const [portalPort, portalSitePort, toyboxSitePort] = [await freePort(), await freePort(), await freePort()];
    portalSite = `http://127.0.0.1:${portalSitePort}`;
    toyboxSite = `http://127.0.0.1:${toyboxSitePort}`;

    // TOYBOX's "web": one page with the banner's one script tag, behind Caddy's TOYBOX site.
    host = http.createServer((_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': `default-src 'self'; script-src 'self' ${portalSite}; connect-src 'self' ${portalSite}; style-src 'self'`,
      });
      res.end(`<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>TOYBOX</title></head>
<body><main><h1>ようこそ</h1></main><script src="${portalSite}/banner.js" defer></script></body></html>`);
    });
    await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
    const hostPort = (host.address() as net.AddressInfo).port;

    env = {
      ...process.env, NODE_ENV: 'test', DATABASE_URL: db.url, DATA_DIR: dataDir, PORT: String(portalPort), HOST: '127.0.0.1',
      TOYBOX_URL: toyboxSite, PUBLIC_URL: portalSite, LOG_LEVEL: 'warn', WORKER: 'false',
    };
    portal = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    await waitFor('the portal', async () => (await fetch(`http://127.0.0.1:${portalPort}/healthz`)).ok, 60_000);

    caddy = spawn('caddy', ['run', '--config', path.join(ROOT, 'Caddyfile'), '--adapter', 'caddyfile'], {
      cwd: caddyHome,
      env: {
        ...process.env,
        HOME: caddyHome, XDG_DATA_HOME: caddyHome, XDG_CONFIG_HOME: caddyHome,
        CADDY_ADMIN: 'off',
        PORTAL_SITE: portalSite, PORTAL_UPSTREAM: `127.0.0.1:${portalPort}`, PORTAL_PUBLIC_DIR: path.join(dataDir, 'public'),
        TOYBOX_SITE: toyboxSite, TOYBOX_UPSTREAM: `127.0.0.1:${hostPort}`, TOYBOX_STATIC_DIR: caddyHome, TOYBOX_ORIGIN: toyboxSite,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    caddy.stdout!.on('data', (d: Buffer) => (caddyLog += d));
    caddy.stderr!.on('data', (d: Buffer) => (caddyLog += d));
    await waitFor('Caddy', async () => (await fetch(`${portalSite}/healthz`)).ok);
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    caddy?.kill('SIGTERM');
    portal?.kill('SIGKILL');
    await new Promise<void>((r) => host?.close(() => r()));
    await db?.drop();
    for (const d of [dataDir, caddyHome]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it('answers /banner.js and /api/notice through Caddy after SIGKILL, and the banner renders on a TOYBOX page', async () => {
    // Publish with the real CLI, as an operator would.
    const published = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'notice', 'publish', '--severity', 'critical', '--title-ja', 'サイトに接続できない障害', '--body-ja', '現在調査中です。', '--title-en', 'The site is unreachable', '--body-en', 'We are investigating.'],
      { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 },
    );
    expect({ code: published.status, stderr: published.stderr }).toEqual({ code: 0, stderr: '' });
    const snapshot = path.join(dataDir, 'public', 'notice.json');
    await waitFor('the snapshot', async () => fs.existsSync(snapshot) && fs.readFileSync(snapshot, 'utf8').includes('サイトに接続できない障害'));
    await waitFor('the portal to serve the notice', async () => (await (await fetch(`${portalSite}/api/notice`)).text()).includes('サイトに接続できない障害'));

    portal.kill('SIGKILL');
    await new Promise((r) => portal.once('exit', r));
    expect((await fetch(`${portalSite}/status`)).status).toBe(502); // the portal really is gone

    const api = await fetch(`${portalSite}/api/notice`, { headers: { Origin: toyboxSite } });
    expect(api.status).toBe(200);
    expect(api.headers.get('access-control-allow-origin')).toBe(toyboxSite);
    expect(api.headers.get('cache-control')).toBe('public, max-age=10');
    expect(api.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(api.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await api.text()).toBe(fs.readFileSync(snapshot, 'utf8'));

    const js = await fetch(`${portalSite}/banner.js`, { headers: { Origin: toyboxSite } });
    expect(js.status).toBe(200);
    expect(js.headers.get('access-control-allow-origin')).toBe(toyboxSite);
    expect(js.headers.get('cache-control')).toBe('public, max-age=10');
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(await js.text()).toBe(fs.readFileSync(path.join(dataDir, 'public', 'banner.js'), 'utf8'));
    // an ETag from the file, so browsers revalidate cheaply
    const etag = api.headers.get('etag');
    expect(etag).toBeTruthy();

    const page = await browser.newPage({ locale: 'ja-JP' });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${toyboxSite}/`);
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 15_000 });
    expect(await alert.textContent()).toContain('サイトに接続できない障害');
    await page.screenshot({ path: artifact('caddy-fallback-banner.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
    expect(caddyLog).not.toMatch(/acme|obtain|issuer/i); // http:// sites: Caddy never asks for a certificate
  }, 120_000);
});
