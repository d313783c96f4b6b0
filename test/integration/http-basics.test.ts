import { eventually } from '../support/eventually';
import { usePortalBehindLink, makeReadOnly } from '../support/outages';
import { useTestPortal } from '../support/portal-stack';

describe('pages, errors and health', () => {
  const portal = useTestPortal();

  it('explains the incident in Japanese by default and in English on request', async () => {
    const ja = await portal.agent().get('/');
    expect(ja.status).toBe(200);
    expect(ja.text).toContain('<html lang="ja">');
    expect(ja.text).toContain('2026年1月22日');
    expect(ja.text).toContain('href="/export"');
    expect(ja.text).toContain('href="/status"');
    const en = await portal.agent().get('/').set('Accept-Language', 'en-US,en;q=0.9');
    expect(en.text).toContain('<html lang="en">');
    expect(en.text).toContain('22 January 2026');
    const q = await portal.agent().get('/?lang=en');
    expect(q.text).toContain('TOYBOX lost its data');
  });

  it('sends a strict CSP and no framework banner', async () => {
    const res = await portal.agent().get('/');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('answers unknown pages with a 404 page in both languages', async () => {
    const ja = await portal.agent().get('/no-such-page');
    expect(ja.status).toBe(404);
    expect(ja.text).toContain('ページが見つかりません');
    const en = await portal.agent().get('/no-such-page?lang=en');
    expect(en.text).toContain('Page not found');
  });

  it('answers a malformed JSON body with 400 and a clear message, no stack', async () => {
    const res = await portal.agent().post('/login').set('Content-Type', 'application/json').set('Accept', 'application/json').send('{"login": ');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('JSON');
    expect(res.text).not.toMatch(/at .*\.ts:\d+/);
  });

  it('reports health and readiness', async () => {
    expect((await portal.agent().get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await portal.agent().get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.database.ok).toBe(true);
    expect(ready.body.checks.migrations.ok).toBe(true);
  });
});

describe('/readyz through outages', () => {
  const { portal, link } = usePortalBehindLink();

  it('turns 503 with a reason when the database stops, and 200 again when it returns', async () => {
    expect((await portal.agent().get('/readyz')).status).toBe(200);
    await link.cut();
    const down = await portal.agent().get('/readyz');
    expect(down.status).toBe(503);
    expect(down.body.checks.database).toEqual({ ok: false, reason: 'database is unreachable' });
    await link.restore();
    await eventually(async () => (await portal.agent().get('/readyz')).status === 200, 5000, 250);
  });

  it('turns 503 when DATA_DIR is read-only, and recovers without a restart', async () => {
    const undo = makeReadOnly(portal.dataDir);
    try {
      const res = await portal.agent().get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body.checks.data_dir.reason).toContain('is not writable');
    } finally {
      undo();
    }
    expect((await portal.agent().get('/readyz')).status).toBe(200);
  });
});
