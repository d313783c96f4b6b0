import { Router } from 'express';
import type { AppContext } from '../../app-context';
import { requireStaff } from '../../auth/guards';
import { userActor } from '../../audit/service';
import { validate } from '../../http/validate';
import { createMetricsRegistry, metricsAccess } from './metrics';
import { backupIdParams, runForm, testAlertForm } from './schema';
import { acknowledgeBackup, overview, startBackup } from './service';
import { recordSighting } from '../../sightings';
import { METRICS_SCRAPE } from './recovery';
import { sendTestAlert } from './test-alert';

/** GET /metrics, mounted before sessions: scraped by Prometheus, not browsers. */
export function metricsRoutes(ctx: AppContext): Router {
  const router = Router();
  const { registry, refresh } = createMetricsRegistry(ctx);
  router.get('/metrics', metricsAccess(ctx), async (req, res) => {
    // Counted for the recovery checklist's "/metrics scraped recently" (how, never the token).
    recordSighting(ctx.knex, METRICS_SCRAPE, req.get('authorization') ? 'token' : 'loopback');
    await refresh();
    res.type(registry.contentType).send(await registry.metrics());
  });
  return router;
}

/** /admin/backups: backups, drills and alerts, with acknowledge and run-now buttons. */
export function adminBackupRoutes(ctx: AppContext): Router {
  const router = Router();
  router.get('/admin/backups', requireStaff, async (req, res) => {
    const data = await overview(ctx);
    const flash = typeof req.query.done === 'string' ? req.query.done : null;
    res.render('backups/index', { title: req.t('backups.title'), headExtra: '<link rel="stylesheet" href="/static/css/backups.css">', flash, ...data });
  });

  const acknowledge = validate({ params: backupIdParams }, { notFoundKey: 'backups.errors.bad_id' });
  router.post('/admin/backups/:id/acknowledge', requireStaff, acknowledge, async (req, res) => {
    await acknowledgeBackup(ctx, acknowledge.of(req).params.id, userActor(req.user!));
    res.redirect(303, '/admin/backups?done=acknowledged');
  });

  // A test alert through the real channels; `next` only ever returns to one of the two staff pages.
  const testAlert = validate({ body: testAlertForm });
  router.post('/admin/backups/test-alert', requireStaff, testAlert, async (req, res) => {
    const result = await sendTestAlert(ctx, userActor(req.user!));
    const back = testAlert.of(req).body.next ?? '/admin/backups';
    res.redirect(303, `${back}?done=${result.error ? 'test_alert_failed' : 'test_alert_sent'}`);
  });

  const run = validate({ body: runForm });
  router.post('/admin/backups/run', requireStaff, run, async (req, res) => {
    // A backup takes minutes: a worker instance takes it from the queue, and the page shows it as running.
    await startBackup(ctx, run.of(req).body.kind, `admin:${req.user!.display_id}`);
    res.redirect(303, '/admin/backups?done=started');
  });
  return router;
}
