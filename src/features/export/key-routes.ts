import { Router } from 'express';
import type { AppContext } from '../../app-context';
import { loadSigningKey, publicKeyEntry, trustedKeys } from '../../auth/archive-signing';
import { Unavailable } from '../../http/errors';
import { logger } from '../../logger';
import { toyboxHostOf } from './signature';

export const WELL_KNOWN_KEY_PATH = '/.well-known/toybox-export-key';
const MEMO_MS = 5 * 60_000;

/**
 * The public key(s) that verify this site's export archives: the current one
 * (top-level fields) and every earlier one (`keys`). No session, no cookies:
 * anyone may check an archive, and caches may keep the answer for an hour.
 */
export function exportKeyRoutes(ctx: AppContext): Router {
  const router = Router();
  let memo: { body: unknown; at: number } | null = null;
  const document = async () => {
    if (memo && Date.now() - memo.at < MEMO_MS) return memo.body;
    const current = await loadSigningKey(ctx.config);
    const keys = await trustedKeys(ctx.config);
    const body = {
      site: ctx.config.PUBLIC_URL,
      toybox_site: toyboxHostOf(ctx.config.TOYBOX_URL),
      signed_file: 'manifest.json',
      ...publicKeyEntry(current),
      keys: keys.map(publicKeyEntry),
    };
    memo = { body, at: Date.now() };
    return body;
  };
  router.get(WELL_KNOWN_KEY_PATH, async (_req, res) => {
    const body = await document().catch((err: unknown) => {
      logger.error({ err }, 'export signing key unavailable');
      throw Unavailable('export.signing_key_unavailable');
    });
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.json(body);
  });
  return router;
}
