import crypto from 'node:crypto';
import { csrfFrom, type TestPortal } from '../support/portal';
import { buildUser } from '../support/factories';
import { useTestPortal } from '../support/portal-stack';

/**
 * Wrong passwords for real accounts (cheap to check at the test hash cost), spread over
 * eight accounts so that the per-account limit (5) never answers before the per-address one.
 */
async function wrongLogins(portal: TestPortal) {
  const users = await Promise.all(Array.from({ length: 8 }, () => buildUser(portal.ctx.knex)));
  return (i: number) => ({ login: users[i % users.length]!.display_id, password: 'wrong-password' });
}

/**
 * Issue 14, point 11: the portal trusts only what TRUST_PROXY says. Tests run
 * in process over loopback, exactly the position of a proxy (or any local
 * process) on the portal's host.
 */
const TOKEN = 'metrics-token-0123456789abcdef';
const SECRET = 'bounce-secret-0123456789abcdef';

describe('behind a proxy on the same host (TRUST_PROXY=loopback, the default)', () => {
  const portal = useTestPortal({ BOUNCE_WEBHOOK_SECRET: SECRET });

  it('does not take a loopback connection without X-Forwarded-For as a local scrape: /metrics needs the token', async () => {
    const bare = await portal.agent().get('/metrics');
    expect(bare.status).toBe(401);
    expect(bare.text).not.toContain('portal_');
    // A same-host proxy that sets only X-Real-IP (nginx's common snippet).
    const realIp = await portal.agent().get('/metrics').set('X-Real-IP', '203.0.113.50');
    expect(realIp.status).toBe(401);
    expect(realIp.text).not.toContain('portal_');
  });

  it('counts sign-in failures per forwarded client, the address the trusted proxy reports', async () => {
    const agent = portal.agent();
    const csrf = csrfFrom((await agent.get('/login')).text);
    const wrong = await wrongLogins(portal);
    const fail = (ip: string, i: number) => agent.post('/login').set('X-Forwarded-For', ip).type('form').send({ _csrf: csrf, ...wrong(i) });
    for (let i = 0; i < 30; i += 1) expect((await fail('203.0.113.20', i)).status).toBe(401);
    expect((await fail('203.0.113.20', 30)).status).toBe(429);
    expect((await fail('198.51.100.20', 31)).status).toBe(401);
  });

  const sign = (body: string, ts = Math.floor(Date.now() / 1000)) => ({
    'Content-Type': 'application/json',
    'X-Toybox-Timestamp': String(ts),
    'X-Toybox-Signature': `sha256=${crypto.createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex')}`,
  });

  it('does not let a captured bounce webhook whose events carry no id be replayed', async () => {
    const body = JSON.stringify({ events: [{ email: 'replayed@example.net', type: 'soft' }, { email: 'replayed@example.net', type: 'soft', status: '4.2.2' }] });
    const headers = sign(body);
    const first = await portal.agent().post('/webhooks/bounce').set(headers).send(body);
    expect(first.body).toEqual({ recorded: 2, duplicate: 0, invalid: 0 });
    for (let i = 0; i < 3; i += 1) {
      const replay = await portal.agent().post('/webhooks/bounce').set(headers).send(body);
      expect(replay.status).toBe(200);
      expect(replay.body).toEqual({ recorded: 0, duplicate: 2, invalid: 0 });
    }
    const rows = await portal.ctx.knex('portal.bounce_events').where({ email_key: 'replayed@example.net' });
    expect(rows).toHaveLength(2);
    // A new delivery, signed anew, is a new report and counts.
    const later = await portal.agent().post('/webhooks/bounce').set(sign(body, Math.floor(Date.now() / 1000) + 1)).send(body);
    expect(later.body).toEqual({ recorded: 2, duplicate: 0, invalid: 0 });
  });
});

describe('no proxy in front (TRUST_PROXY=false)', () => {
  const portal = useTestPortal({ TRUST_PROXY: 'false', METRICS_TOKEN: TOKEN });

  it('answers a direct loopback scrape, but not one carrying any forwarding header, unless it has the token', async () => {
    expect((await portal.agent().get('/metrics')).status).toBe(200);
    for (const [h, v] of [['X-Real-IP', '203.0.113.50'], ['X-Forwarded-For', '203.0.113.9'], ['Forwarded', 'for=203.0.113.9'], ['Via', '1.1 proxy']]) {
      expect({ h, status: (await portal.agent().get('/metrics').set(h!, v!)).status }).toEqual({ h, status: 401 });
    }
    expect((await portal.agent().get('/metrics').set('X-Real-IP', '203.0.113.50').set('Authorization', `Bearer ${TOKEN}`)).status).toBe(200);
  });

  it('ignores X-Forwarded-For for the per-address sign-in limit: a loopback client cannot spoof its way past it', async () => {
    const agent = portal.agent();
    const csrf = csrfFrom((await agent.get('/login')).text);
    const wrong = await wrongLogins(portal);
    const statuses: number[] = [];
    for (let i = 0; i < 31; i += 1) {
      const res = await agent.post('/login').set('X-Forwarded-For', `198.51.100.${i + 1}`).type('form').send({ _csrf: csrf, ...wrong(i) });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
    expect(statuses[30]).toBe(429);
  });
});
