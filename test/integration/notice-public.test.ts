import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { startTestPortal, type TestPortal } from '../support/portal';
import * as service from '../../src/features/notice/service';
import { parseNoticeInput } from '../../src/features/notice/schema';
import { flushSightings } from '../../src/sightings';
import { bannerOrigins, refusedOrigins } from '../../src/features/notice/banner-sightings';
import { BANNER_JS } from '../../src/features/notice/bundle';

const TOYBOX = 'http://toybox.test:8000';
const TOYBOX_WWW = 'https://www.toybox.test';

function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}
const actor = { label: 'test:public', userId: null };

function input(fields: Record<string, unknown>) {
  const r = parseNoticeInput({ kind: 'incident', severity: 'warning', title_ja: '障害', body_ja: '本文', ...fields });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

describe('public notice endpoints (fast path, before Express)', () => {
  let portal: TestPortal;
  let base: string;
  beforeAll(async () => {
    portal = await startTestPortal({ TOYBOX_URL: `${TOYBOX}/, ${TOYBOX_WWW}` });
    base = await portal.listen();
  });
  afterAll(() => portal.close());

  it('answers with an empty list and renders nothing when no notice is active', async () => {
    const res = await fetch(`${base}/api/notice`);
    expect(res.status).toBe(200);
    expect((await res.json()).notices).toEqual([]);
    const html = await fetch(`${base}/banner.html`);
    expect(html.status).toBe(200);
    expect(await html.text()).toBe('');
  });

  it('serves JSON with a strong ETag, 304 on If-None-Match, caching with stale-while-revalidate', async () => {
    await service.createNotice(portal.ctx, input({ title_ja: 'API の障害', title_en: 'API outage', body_en: 'Working on it' }), actor, { publish: true });
    const res = await fetch(`${base}/api/notice`);
    const body = await res.json();
    expect(body.notices[0]).toMatchObject({ severity: 'warning', state: 'investigating', title: { ja: 'API の障害', en: 'API outage' } });
    expect(body.notices[0].message.en).toBe('<p>Working on it</p>');
    expect(typeof body.notices[0].updatedAt).toBe('string');
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[^"]+"$/); // strong: no W/
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    expect(res.headers.get('cache-control')).toContain('stale-while-revalidate=');
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');

    const again = await fetch(`${base}/api/notice`, { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(await again.text()).toBe('');
    const listed = await fetch(`${base}/api/notice`, { headers: { 'If-None-Match': `"nope", ${etag}` } });
    expect(listed.status).toBe(304);

    await service.createNotice(portal.ctx, input({ title_ja: '二件目', severity: 'critical' }), actor, { publish: true });
    const changed = await fetch(`${base}/api/notice`, { headers: { 'If-None-Match': etag } });
    expect(changed.status).toBe(200);
    const notices = (await changed.json()).notices;
    expect(notices[0].title.ja).toBe('二件目'); // critical first
    expect(changed.headers.get('etag')).not.toBe(etag);
  });

  it("allows CORS for the origins TOYBOX_URL lists only, and counts the refused ones", async () => {
    for (const origin of [TOYBOX, TOYBOX_WWW]) {
      const ok = await fetch(`${base}/api/notice`, { headers: { Origin: origin } });
      expect(ok.headers.get('access-control-allow-origin')).toBe(origin);
      expect(ok.headers.get('vary')).toContain('Origin');
    }
    const ok = await fetch(`${base}/api/notice`, { headers: { Origin: TOYBOX } });
    const evil = await fetch(`${base}/api/notice`, { headers: { Origin: 'https://evil.test' } });
    expect(evil.status).toBe(200);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${base}/api/notice`, { method: 'OPTIONS', headers: { Origin: TOYBOX_WWW, 'Access-Control-Request-Method': 'GET' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(TOYBOX_WWW);
    const etag = ok.headers.get('etag')!;
    const nm = await fetch(`${base}/api/notice`, { headers: { Origin: TOYBOX, 'If-None-Match': etag } });
    expect(nm.status).toBe(304);
    expect(nm.headers.get('access-control-allow-origin')).toBe(TOYBOX);
    await flushSightings(portal.ctx.knex);
    expect((await refusedOrigins(portal.ctx.knex)).map((s) => s.key)).toEqual(['https://evil.test']);
    expect((await bannerOrigins(portal.ctx.knex)).map((s) => s.key)).not.toContain('https://evil.test');
  });

  it('sends the same security headers as the portal pages, cross-origin readable', async () => {
    const page = await fetch(`${base}/status`);
    for (const url of ['/api/notice', '/banner.js', '/banner.html']) {
      const res = await fetch(`${base}${url}`);
      for (const h of ['content-security-policy', 'strict-transport-security', 'x-content-type-options', 'x-frame-options', 'referrer-policy', 'cross-origin-opener-policy', 'origin-agent-cluster']) {
        expect([url, h, res.headers.get(h)]).toEqual([url, h, page.headers.get(h)]);
      }
      expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    }
  });

  it('serves banner.js with the notices inside, small (code under 4 KB gzipped), dependency-free, and answers HEAD', async () => {
    expect(zlib.gzipSync(BANNER_JS).length).toBeLessThan(4096); // the code alone, no notice
    const res = await fetch(`${base}/banner.js`);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, no-cache'); // revalidated (304) on every page view
    const js = await res.text();
    expect(zlib.gzipSync(js).length).toBeLessThan(4096); // with this test's notices in it
    expect(js).not.toMatch(/\brequire\(|\bimport\s/);
    expect(js).toContain('attachShadow');
    expect(js).not.toContain('fetch('); // no cross-origin request: the notices are in the script
    expect(js).toContain('API の障害');
    expect(() => new Function(js)).not.toThrow(); // parses as a classic script
    const head = await fetch(`${base}/banner.js`, { method: 'HEAD', headers: { 'accept-encoding': 'identity' } });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(js)));
    const gz = await rawGet(`${base}/banner.js`, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toContain('Accept-Encoding');
    expect(gz.body.length).toBeLessThan(4096);
    expect(zlib.gunzipSync(gz.body).toString()).toBe(js);
    expect(gz.headers.etag).not.toBe(head.headers.get('etag')); // each encoding its own strong ETag
    const again = await rawGet(`${base}/banner.js`, { 'accept-encoding': 'gzip', 'if-none-match': String(gz.headers.etag) });
    expect(again.status).toBe(304);
  });

  it('serves the banner as an HTML fragment in either language', async () => {
    const ja = await (await fetch(`${base}/banner.html?lang=ja`)).text();
    expect(ja).toContain('lang="ja"');
    expect(ja).toContain('API の障害');
    expect(ja).toContain('role="alert"');
    expect(ja).toContain('role="status"');
    expect(ja).toContain('詳しくは障害情報ページへ');
    const en = await (await fetch(`${base}/banner.html?lang=en`)).text();
    expect(en).toContain('API outage');
    expect(en).toContain('二件目'); // no English title: falls back to Japanese
    expect(en).toContain('Details on the status page');
  });

  it('writes the public snapshot files atomically into DATA_DIR/public', async () => {
    const dir = path.join(portal.dataDir, 'public');
    const api = await (await fetch(`${base}/api/notice`)).text();
    expect(fs.readFileSync(path.join(dir, 'notice.json'), 'utf8')).toBe(api);
    expect(fs.readFileSync(path.join(dir, 'banner.js'), 'utf8')).toBe(await (await fetch(`${base}/banner.js`)).text());
    expect(fs.readFileSync(path.join(dir, 'banner.html'), 'utf8')).toBe(await (await fetch(`${base}/banner.html`)).text());
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const snap = JSON.parse(fs.readFileSync(path.join(portal.dataDir, 'notice-snapshot.json'), 'utf8'));
    expect(snap.version).toBe(JSON.parse(api).version);
  });

  it('shows scheduled maintenance on the status page with its Japan-time window', async () => {
    await service.createNotice(portal.ctx, input({ kind: 'maintenance', state: 'scheduled', severity: 'info', title_ja: '定期メンテナンス', title_en: 'Planned maintenance', starts_at: '2026-12-05T01:00', ends_at: '2026-12-05T03:30' }), actor, { publish: true });
    const ja = await (await fetch(`${base}/status`)).text();
    expect(ja).toContain('予定・実施中のメンテナンス');
    expect(ja).toContain('2026/12/05 01:00 – 2026/12/05 03:30（日本時間）');
    const en = await (await fetch(`${base}/status?lang=en`)).text();
    expect(en).toContain('Planned maintenance');
    expect(en).toContain('5 Dec 2026, 01:00 – 5 Dec 2026, 03:30 (Japan time)');
  });
});
