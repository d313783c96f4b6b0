
import { Router } from 'express';
import sharp from 'sharp';
import type { AppContext } from '../../app-context';
import { requireStaff } from '../../auth/guards';
import { BadRequest, NotFound } from '../../http/errors';
import { reportQuery, thumbParam } from './schema';
import { salvageReport, thumbnailSource } from './service';

/** /admin/salvage: the catalogue per old user id, read-only, staff only; thumbnails never leave staff sessions. */
export function adminSalvageRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/admin/salvage', requireStaff, async (req, res) => {
    const parsed = reportQuery.safeParse(req.query);
    if (!parsed.success) throw BadRequest('salvage.errors.bad_query');
    const report = await salvageReport(ctx, parsed.data.q);
    res.render('salvage/index', { title: req.t('salvage.title'), headExtra: '<link rel="stylesheet" href="/static/css/salvage.css">', q: parsed.data.q ?? '', ...report });
  });

  router.get('/admin/salvage/thumbs/:sha256', requireStaff, async (req, res) => {
    const parsed = thumbParam.safeParse(req.params);
    if (!parsed.success) throw BadRequest('salvage.errors.bad_hash');
    const file = await thumbnailSource(ctx, parsed.data.sha256);
    if (!file) throw NotFound('salvage.errors.no_image');
    const jpeg = await sharp(file, { failOn: 'error' })
      .rotate()
      .resize(160, 160, { fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 75 })
      .toBuffer()
      .catch(() => null);
    if (!jpeg) throw NotFound('salvage.errors.no_image');
    // Old users' pictures: never cached by shared caches or kept by the browser.
    res.set('Cache-Control', 'private, no-store').type('image/jpeg').send(jpeg);
  });
  return router;
}

