
import { Router } from 'express';
import type { AppContext } from '../../app-context';
import { requireStaff } from '../../auth/guards';
import { NotFound } from '../../http/errors';
import { validate } from '../../http/validate';
import { reportQuery, thumbParam } from './schema';
import { salvageReport, thumbnailSource } from './service';

/** /admin/salvage: the catalogue per old user id, read-only, staff only; thumbnails never leave staff sessions. */
export function adminSalvageRoutes(ctx: AppContext): Router {
  const router = Router();
  const search = validate({ query: reportQuery }, { invalidKey: 'salvage.errors.bad_query' });
  router.get('/admin/salvage', requireStaff, search, async (req, res) => {
    const { q } = search.of(req).query;
    const report = await salvageReport(ctx, q);
    res.render('salvage/index', { title: req.t('salvage.title'), headExtra: '<link rel="stylesheet" href="/static/css/salvage.css">', q: q ?? '', ...report });
  });

  const thumb = validate({ params: thumbParam }, { notFoundKey: 'salvage.errors.no_image' });
  router.get('/admin/salvage/thumbs/:sha256', requireStaff, thumb, async (req, res) => {
    const file = await thumbnailSource(ctx, thumb.of(req).params.sha256);
    if (!file) throw NotFound('salvage.errors.no_image');
    // sharp (libvips, ~20 MB) loads with the first thumbnail, not with every CLI command.
    const sharp = (await import('sharp')).default;
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

