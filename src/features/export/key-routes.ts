import { Router } from 'express';
import type { AppContext } from '../../app-context';
import { loadSigningKey, publicKeyEntry, trustedKeys } from '../../auth/archive-signing';
import { toyboxHostOf } from './signature';

export const WELL_KNOWN_KEY_PATH = '/.well-known/toybox-export-key';

/**
 * The public key(s) that verify this site's export archives: the current one
 * (top-level fields) and every earlier one (`keys`). No session, no cookies:
 * anyone may check an archive, and caches may keep the answer for an hour.
 */
export function exportKeyRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get(WELL_KNOWN_KEY_PATH, async (_req, res) => {
    const current = await loadSigningKey(ctx.config);
    const keys = await trustedKeys(ctx.config);
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.json({
      site: ctx.config.PUBLIC_URL,
      toybox_site: toyboxHostOf(ctx.config.TOYBOX_URL),
      signed_file: 'manifest.json',
      ...publicKeyEntry(current),
      keys: keys.map(publicKeyEntry),
    });
  });
  return router;
}
