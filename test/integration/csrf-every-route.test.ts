import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { startTestPortal, csrfFrom, signedInAgent, type TestPortal } from '../support/portal';
import { buildUser } from '../support/factories';
import { stateChangingRoutes, type RegisteredRoute } from '../support/routes';
import { insertSubmissionRow } from '../../src/toybox/rows';
import { backupNow } from '../../src/features/backups/service';
import { eventuallyValue } from '../support/eventually';

/**
 * The attack from issue 14: a same-site page posts a form (multipart or
 * urlencoded) without the CSRF token while an administrator is signed in.
 * Every state-changing route the app registers is read from its router, so
 * a route added later is covered without touching this file.
 */

/** Routes that are CSRF-exempt by design, each with the reason and its own check that refuses a forged request. */
const EXEMPT: Record<string, { why: string; forged: { status: number } }> = {
  'POST /u/:token': {
    why: 'RFC 8058 one-click unsubscribe: mail clients post without cookies or token; the signed link is the authority',
    forged: { status: 400 },
  },
  'POST /webhooks/bounce': {
    why: 'server-to-server webhook: the HMAC signature over the body is the authority, no browser session is involved',
    forged: { status: 401 },
  },
  'POST /status/unsubscribe/:token': {
    why: 'RFC 8058 one-click unsubscribe from status e-mails: mail clients post without cookies; the signed link is the authority',
    // a made-up token is out of the link's shape: 400 (src/http/links.ts); a forged well-formed one is 410 (link-tokens.test.ts)
    forged: { status: 400 },
  },
  'POST /status/subscribe/confirm/:token': {
    why: 'double opt-in: the signed, expiring link sent to the address is the proof; a forged post can only confirm what its token names',
    forged: { status: 400 },
  },
};

/** The routes that parse their own multipart body (declared with deferCsrfUntilParsed). */
const UPLOADS = new Set(['POST /admin/campaigns/import', 'POST /recover/files', 'POST /recover/archive']);

// Tables a request may touch without changing anything: its own session and the rate-limit counters.
const VOLATILE = new Set(['portal.sessions', 'portal.rate_limits']);

/** One digest of every row of the portal's and TOYBOX's tables: any insert, update or delete changes it. */
async function fingerprint(knex: Knex): Promise<Record<string, string>> {
  const tables = await knex('pg_tables').select('schemaname', 'tablename').whereIn('schemaname', ['portal', 'public']);
  const out: Record<string, string> = {};
  for (const { schemaname, tablename } of tables as Array<{ schemaname: string; tablename: string }>) {
    const name = `${schemaname}.${tablename}`;
    if (VOLATILE.has(name)) continue;
    const r = await knex.raw<{ rows: Array<{ d: string | null; n: string }> }>(
      `SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS d, count(*) AS n FROM ${schemaname}."${tablename}" t`,
    );
    out[name] = `${r.rows[0]!.n}:${r.rows[0]!.d ?? ''}`;
  }
  return out;
}

describe('CSRF on every state-changing route', () => {
  let portal: TestPortal;
  let admin: Awaited<ReturnType<typeof signedInAgent>>;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    portal = await startTestPortal({ BOUNCE_WEBHOOK_SECRET: 'x'.repeat(32) });
    const knex = portal.ctx.knex;
    const su = await buildUser(knex, { is_staff: true, is_superuser: true });
    admin = await signedInAgent(portal, su.display_id, su.password);
    // Something for each route to act on: a draft notice, a draft campaign, a suspect backup.
    let page = await admin.get('/admin/notices/new');
    const notice = await admin.post('/admin/notices').type('form').send({
      _csrf: csrfFrom(page.text), kind: 'incident', severity: 'critical', state: 'investigating',
      title_ja: '障害', title_en: 'Outage', body_ja: '調査中', body_en: 'Investigating', action: 'save',
    });
    expect(notice.status).toBe(303);
    ids.notices = /\/admin\/notices\/(\d+)/.exec(notice.headers.location!)![1]!;
    page = await admin.get('/admin/campaigns/new');
    const campaign = await admin.post('/admin/campaigns').type('form').send({
      _csrf: csrfFrom(page.text), name: 'spring', subject_ja: '再登録', text_ja: '{{display_name}} 様\n{{link}}',
      rate_per_minute: '30', concurrency: '2', pause_after_failures: '5',
    });
    expect(campaign.status).toBe(303);
    ids.campaigns = /\/admin\/campaigns\/(\d+)/.exec(campaign.headers.location!)![1]!;
    const member = await buildUser(knex);
    for (const title of ['a', 'b']) await insertSubmissionRow(knex, { author_id: member.id, title });
    expect((await backupNow(portal.ctx, 'database', { trigger: 'test' }))!.status).toBe('good');
    await knex.raw('TRUNCATE public.submissions CASCADE');
    const suspect = await backupNow(portal.ctx, 'database', { trigger: 'test' });
    expect(suspect!.status).toBe('suspect');
    ids.backups = String(suspect!.id);
  });
  afterAll(() => portal.close());

  /** A concrete URL for a route: ids of the fixtures above, harmless values for other parameters. */
  function urlFor(route: RegisteredRoute): string {
    const section = /^\/admin\/(\w+)\//.exec(route.path)?.[1] ?? '';
    return route.path
      .replace(/[{}]/g, '')
      .replace(/:(\w+)/g, (_m, name: string) => {
        if (name === 'id') return ids[section] ?? '1';
        if (name === 'action') return 'cancel';
        if (name === 'key') return crypto.randomBytes(12).toString('hex');
        return crypto.randomBytes(24).toString('base64url');
      })
      .replace(/\*\w+/g, 'x');
  }

  const routes = () => {
    const all = stateChangingRoutes(portal.app);
    // ALL routes answer every method: check them with POST.
    return all.map((r) => ({ ...r, method: r.method === 'ALL' ? 'POST' : r.method }));
  };

  it('finds the routes in the router, nested routers included', () => {
    const keys = routes().map((r) => `${r.method} ${r.path}`);
    for (const known of ['POST /login', 'POST /admin/notices/:id/publish', 'POST /admin/campaigns/:id/:action', 'POST /admin/backups/:id/acknowledge', 'POST /admin/campaigns/import', 'POST /setup', ...Object.keys(EXEMPT)]) {
      expect(keys).toContain(known);
    }
  });

  it('refuses a multipart or urlencoded post without the token with 403, signed in or not, and changes nothing', async () => {
    const before = await fingerprint(portal.ctx.knex);
    const anonymous = portal.agent();
    const failures: string[] = [];
    for (const route of routes()) {
      const key = `${route.method} ${route.path}`;
      const exempt = EXEMPT[key];
      const url = urlFor(route);
      const m = route.method.toLowerCase() as 'post' | 'put' | 'patch' | 'delete';
      for (const [who, client] of [['superuser', admin], ['anonymous', anonymous]] as const) {
        const sends = {
          multipart: () => client[m](url).field('action', 'publish').field('confirm', 'yes').field('kind', 'database'),
          urlencoded: () => client[m](url).type('form').send({ action: 'publish', confirm: 'yes', kind: 'database' }),
        };
        for (const [body, send] of Object.entries(sends)) {
          const res = await send();
          const expected = exempt ? exempt.forged.status : 403;
          if (res.status !== expected) failures.push(`${key} (${url}) as ${who}, ${body}: HTTP ${res.status}, expected ${expected}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await fingerprint(portal.ctx.knex)).toEqual(before);
  });

  it('answers a multipart body with a valid token (X-CSRF-Token) on a route that takes forms with 400, never 500, and changes nothing', async () => {
    const page = await admin.get('/admin');
    const token = csrfFrom(page.text);
    const before = await fingerprint(portal.ctx.knex);
    const failures: string[] = [];
    for (const route of routes()) {
      const key = `${route.method} ${route.path}`;
      const m = route.method.toLowerCase() as 'post' | 'put' | 'patch' | 'delete';
      const res = await admin[m](urlFor(route)).set('X-CSRF-Token', token).field('action', 'publish').field('kind', 'database');
      // Uploads read multipart themselves: past the token, no file chosen is their own 422. Exempt routes answer with their own check.
      const expected = EXEMPT[key]?.forged.status ?? (UPLOADS.has(key) ? 422 : 400);
      if (res.status !== expected) failures.push(`${key}: HTTP ${res.status}, expected ${expected}`);
    }
    expect(failures).toEqual([]);
    expect(await fingerprint(portal.ctx.knex)).toEqual(before);
    // A body no parser reads (text/plain) reaches the route as an empty form: its own 422, not a crash.
    const plain = await admin.post('/admin/notices').set('X-CSRF-Token', token).set('Content-Type', 'text/plain').send('kind=incident');
    expect(plain.status).toBe(422);
  });

  it('names a reason for every exemption, and each exempt route is still a registered route', () => {
    const keys = new Set(routes().map((r) => `${r.method} ${r.path}`));
    for (const [key, { why }] of Object.entries(EXEMPT)) {
      expect(keys.has(key)).toBe(true);
      expect(why.length).toBeGreaterThan(20);
    }
  });

  it('lets the address upload defer its check to the parsed body, and still refuses a wrong token there', async () => {
    const page = await admin.get('/admin/campaigns/import');
    const before = await fingerprint(portal.ctx.knex);
    const wrong = await admin.post('/admin/campaigns/import').field('_csrf', 'f'.repeat(csrfFrom(page.text).length)).attach('file', Buffer.from('a@example.com\n'), 'list.txt');
    expect(wrong.status).toBe(403);
    expect(await fingerprint(portal.ctx.knex)).toEqual(before);
    const right = await admin.post('/admin/campaigns/import').field('_csrf', csrfFrom(page.text)).attach('file', Buffer.from('a@example.com\n'), 'list.txt');
    expect(right.status).toBe(303);
    // The import runs on after the redirect: let it finish before the database goes away.
    const run = Number(/imports\/(\d+)/.exec(right.headers.location!)![1]);
    const finished = await eventuallyValue(
      () => portal.ctx.knex('portal.address_imports').where({ id: run }).first('status'),
      (row) => row.status === 'done' || row.status === 'failed',
      5000,
    );
    expect(finished.status).toBe('done');
  });
});
