import type { Request, Response, NextFunction } from 'express';
import { Registry, Gauge } from 'prom-client';
import type { AppContext } from '../../app-context';
import { collectHealth } from './health';
import { readOtherFeatureCounts } from './other-features';
import { selectOpenAlerts } from './repo';
import { secretsEqual } from '../../auth/constant-time';

/**
 * A registry of the portal's own (never prom-client's global default), so
 * several portals in one test process do not collide. Values are read at
 * scrape time: nothing to keep in step.
 */
export function createMetricsRegistry(ctx: AppContext): { registry: Registry; refresh: () => Promise<void> } {
  const registry = new Registry();
  const g = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [registry] });
  const lastGoodAge = g('portal_backup_last_good_age_seconds', 'Age of the newest good backup (absent when none)', ['kind']);
  const lastGoodTime = g('portal_backup_last_good_timestamp_seconds', 'Finish time of the newest good backup', ['kind']);
  // Labelled so that "no drill yet" is an absent series, not a 0 that reads as a failure.
  const drillOk = g('portal_backup_last_drill_success', '1 when the newest restore drill passed, 0 when it failed (absent before the first)', ['kind']);
  const drillTime = g('portal_backup_last_drill_timestamp_seconds', 'When the newest restore drill finished', ['kind']);
  const suspects = g('portal_backup_suspect_unacknowledged', 'Suspect backups (wipe guard) awaiting acknowledgement; pruning is stopped while > 0');
  const writable = g('portal_dir_writable', '1 when a probe file can be written', ['dir']);
  const freeBytes = g('portal_dir_free_bytes', 'Free bytes for the portal user', ['dir']);
  const freeRatio = g('portal_dir_free_ratio', 'Free fraction of the filesystem (0..1)', ['dir']);
  const alertsOpen = g('portal_alerts_open', 'Alert conditions currently open', ['condition']);
  const other = g('portal_feature_rows', 'Campaign recipients and export jobs by status', ['table', 'status']);
  const otherPresent = g('portal_feature_table_present', '1 when the feature table exists (campaign_recipients, export_jobs)', ['table']);

  const dbUp = g('portal_database_up', '1 when the database answers');
  // Every gauge is filled from one read of the state, before each scrape renders.
  const refresh = async () => {
    for (const gauge of [dbUp, lastGoodAge, lastGoodTime, drillOk, drillTime, suspects, writable, freeBytes, freeRatio, alertsOpen, other, otherPresent]) gauge.reset();
    const h = await collectHealth(ctx);
    dbUp.set(h.databaseUp ? 1 : 0);
    for (const d of h.dirs) {
      writable.set({ dir: d.label }, d.writable ? 1 : 0);
      if (d.freeBytes !== null) freeBytes.set({ dir: d.label }, d.freeBytes);
      if (d.freeRatio !== null) freeRatio.set({ dir: d.label }, d.freeRatio);
    }
    if (!h.databaseUp) return;
    const now = Date.now();
    for (const [kind, b] of [['database', h.lastGoodDatabase], ['media', h.lastGoodMedia]] as const) {
      if (!b) continue;
      const at = (b.finished_at ?? b.started_at).getTime();
      lastGoodAge.set({ kind }, Math.max(0, (now - at) / 1000));
      lastGoodTime.set({ kind }, at / 1000);
    }
    if (h.lastDrill) {
      drillOk.set({ kind: 'database' }, h.lastDrill.ok ? 1 : 0);
      drillTime.set({ kind: 'database' }, (h.lastDrill.finished_at ?? h.lastDrill.started_at).getTime() / 1000);
    }
    suspects.set(h.suspects.length);
    for (const a of await selectOpenAlerts(ctx.knex)) alertsOpen.set({ condition: a.condition }, 1);
    const counts = await readOtherFeatureCounts(ctx.knex);
    for (const t of counts.present) otherPresent.set({ table: t }, 1);
    for (const c of counts.rows) other.set({ table: c.table, status: c.status }, c.count);
  };
  return { registry, refresh };
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

function tokenMatches(given: string, expected: string): boolean {
  return secretsEqual(given, expected);
}

// Headers a proxy adds; a request carrying any of them has been relayed, whatever its socket says.
const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip', 'x-forwarded-host', 'x-forwarded-proto', 'via'];

/**
 * A direct scrape from this host, with no proxy in between. The socket peer
 * alone cannot tell: a proxy on the same host connects from loopback too, and
 * may set only X-Real-IP or nothing. So loopback counts as local only when
 * TRUST_PROXY says loopback is not a proxy (Express's own `trust proxy`
 * function, the one that derives req.ip everywhere) and the request carries
 * no forwarding header. With the default TRUST_PROXY=loopback, every scrape
 * needs METRICS_TOKEN.
 */
export function isDirectLocalRequest(req: Request): boolean {
  const peer = req.socket.remoteAddress;
  if (!isLoopback(peer)) return false;
  const trusts = req.app.get('trust proxy fn') as ((addr: string, hop: number) => boolean) | undefined;
  if (!trusts || trusts(peer!, 0)) return false;
  return FORWARDING_HEADERS.every((h) => req.headers[h] === undefined);
}

/** /metrics is for the monitoring system: a Bearer METRICS_TOKEN, or a direct local scrape (isDirectLocalRequest). */
export function metricsAccess(ctx: AppContext) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const auth = req.get('authorization') ?? '';
    const token = ctx.config.METRICS_TOKEN;
    if (token && auth.startsWith('Bearer ') && tokenMatches(auth.slice(7).trim(), token)) return next();
    if (isDirectLocalRequest(req)) return next();
    res.status(auth ? 403 : 401).set('WWW-Authenticate', 'Bearer realm="metrics"').type('text/plain').send(auth ? 'forbidden\n' : 'authentication required\n');
  };
}
