import http from 'node:http';
import type { Browser } from 'playwright-core';
import type { TestPortal } from './portal';
import { readThrough, startPortal, type PortalStack } from './portal-stack';

/** A stand-in for TOYBOX's own site on another origin, whose pages carry the portal's banner tag. */
export interface ToyboxSite {
  url: string;
  /** The portal origin the pages' banner tag (and CSP) name; set once the portal listens. */
  setPortal(url: string): void;
  close(): Promise<void>;
}

/** Serves `page(req, res, portalUrl)` on 127.0.0.1 at a random port. */
export async function startToyboxSite(page: (req: http.IncomingMessage, res: http.ServerResponse, portalUrl: string) => void): Promise<ToyboxSite> {
  let portal = '';
  const server = http.createServer((req, res) => page(req, res, portal));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    setPortal: (p) => (portal = p),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * For one describe block: the TOYBOX stand-in site serving `page`, the portal listening with that site as
 * TOYBOX_URL (the site's banner tag pointing at it), and a headless Chromium. Read the parts inside tests and hooks.
 */
export function useBannerSite(page: Parameters<typeof startToyboxSite>[0]): { site: ToyboxSite; portal: TestPortal; browser: Browser; base: string } {
  let site: ToyboxSite | undefined;
  let stack: PortalStack | undefined;
  beforeAll(async () => {
    site = await startToyboxSite(page);
    stack = await startPortal({ env: { TOYBOX_URL: site.url }, browser: true });
    site.setPortal(stack.base);
  });
  afterAll(async () => {
    await stack?.close();
    await site?.close();
  });
  const started = () => {
    if (!site || !stack) throw new Error('the banner site starts in beforeAll: use it inside a test or hook');
    return { site, portal: stack.portal, browser: stack.browser, base: stack.base };
  };
  return readThrough(started, ['site', 'portal', 'browser', 'base']);
}
