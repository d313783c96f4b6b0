import http from 'node:http';
import type { Browser } from 'playwright-core';
import type { TestPortal } from './portal';
import { readThrough, startPortal, useStarted } from './portal-stack';

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
  const started = useStarted(
    'the banner site',
    async () => {
      const site = await startToyboxSite(page);
      const stack = await startPortal({ env: { TOYBOX_URL: site.url }, browser: true }).catch(async (err: unknown) => {
        await site.close();
        throw err;
      });
      site.setPortal(stack.base);
      return { site, stack, portal: stack.portal, browser: stack.browser, base: stack.base };
    },
    async ({ site, stack }) => {
      await stack.close();
      await site.close();
    },
  );
  return readThrough(started, ['site', 'portal', 'browser', 'base']);
}
