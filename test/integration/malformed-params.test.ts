import { startTestPortal, csrfFrom, signedInAgent, type TestPortal } from '../support/portal';
import { buildUser } from '../support/factories';
import { registeredRoutes, type RegisteredRoute } from '../support/routes';

/**
 * The documented contract for path parameters (src/http/params.ts): a
 * malformed one answers 404, exactly like a well-formed one that names
 * nothing, never 400 on one route and 500 on another. Every route with a
 * parameter is read from the router, so a route added later is covered.
 * Links from e-mails follow src/http/links.ts instead: a token out of its shape
 * answers 400 (the "link is incomplete" page), a well-formed dead one 410.
 * Other link tokens are opaque: any URL-safe string goes to its feature.
 */

/** Routes on the link rule of src/http/links.ts: a malformed token is 400 there. */
const LINK_RULE = [
  '/status/subscribe/confirm/:token',
  '/status/unsubscribe/:token',
  '/export/link/:token',
  '/export/download/:id',
  '/r/:token',
  '/r/:token/register',
  '/r/:token/attach',
  '/u/:token',
  '/recover/email/:token',
  '/recover/invite/:token',
];

// Values no parameter of ours accepts: a space, an escaped slash, a NUL byte, an overlong value.
const MALFORMED = ['a%20b', '..%2F..', '%00', 'x'.repeat(301)];
// Values no id, hash, day or name parameter accepts, though URL-safe: not a number, zero, too big for an integer column.
const NOT_AN_ID = ['abc', '0', '99999999999'];

function withParams(route: RegisteredRoute, value: string): string {
  return route.path.replace(/:(\w+)/g, () => value);
}

describe('malformed path parameters', () => {
  let portal: TestPortal;
  let agent: Awaited<ReturnType<typeof signedInAgent>>;
  let csrf: string;

  beforeAll(async () => {
    portal = await startTestPortal({ BOUNCE_WEBHOOK_SECRET: 'x'.repeat(32) });
    const su = await buildUser(portal.ctx.knex, { is_staff: true, is_superuser: true });
    agent = await signedInAgent(portal, su.display_id, su.password);
    csrf = csrfFrom((await agent.get('/admin/notices/new')).text);
  });
  afterAll(() => portal.close());

  it('answer 404 on every parameterised route, as staff, whatever the method', async () => {
    const routes = registeredRoutes(portal.app).filter((r) => r.path.includes(':') && ['GET', 'POST'].includes(r.method));
    expect(routes.length).toBeGreaterThan(20);
    const wrong: string[] = [];
    for (const route of routes) {
      const isLink = route.path.includes(':token');
      const linkRule = LINK_RULE.includes(route.path);
      for (const value of [...MALFORMED, ...NOT_AN_ID]) {
        const url = withParams(route, value);
        const res = route.method === 'GET'
          ? await agent.get(url).set('Accept', 'text/html')
          : await agent.post(url).type('form').set('Accept', 'text/html').send({ _csrf: csrf });
        expect(res.text).not.toMatch(/at .+\.(ts|js):\d+/); // never a stack
        // A URL-safe token is a link that names nothing: its feature's page, 400/404/410, never 500.
        const ok = linkRule ? res.status === 400 : isLink && NOT_AN_ID.includes(value) ? [400, 404, 410].includes(res.status) : res.status === 404;
        if (!ok) wrong.push(`${route.method} ${url} -> ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
