import type { AppContext } from '../../app-context';
import { logger } from '../../logger';
import { sendEmailNow } from '../../mail/send';
import { translator } from '../../i18n';
import { activeSuperuserEmails } from '../../toybox/alert-recipients';
import { collectHealth, type Health } from './health';
import { clearAlert, openAlert, recordAlertDelivery, selectOpenAlerts, type AlertRow } from './repo';
import { formatJst } from '../../i18n/tokyo-time';

/** An alert condition currently true, e.g. `dir_readonly:BACKUP_DIR`, with what the operator needs to know. */
export interface ActiveCondition {
  condition: string;
  details: Record<string, string | number>;
}

/** Pure: which alert conditions hold, given the health read and the clock. */
export function activeConditions(h: Health, now: Date, limits: { staleHours: number; minFreePercent: number }): ActiveCondition[] {
  const out: ActiveCondition[] = [];
  for (const d of h.dirs) {
    if (!d.writable) out.push({ condition: `dir_readonly:${d.label}`, details: { dir: d.label, path: d.path } });
    if (d.freeRatio !== null && d.freeRatio * 100 < limits.minFreePercent) {
      out.push({ condition: `disk_low:${d.label}`, details: { dir: d.label, path: d.path, free_percent: Math.round(d.freeRatio * 1000) / 10 } });
    }
  }
  if (!h.databaseUp) return out; // backup facts live in the database; /metrics reports it down
  for (const f of h.writeFailures) {
    out.push({ condition: `write_failed:${f.area}`, details: { area: f.area, path: f.path, code: f.code, at: f.at.toISOString() } });
  }
  const since = h.lastGoodDatabase?.finished_at ?? h.lastGoodDatabase?.started_at ?? h.installedAt;
  if (since && now.getTime() - since.getTime() > limits.staleHours * 3600_000) {
    out.push({
      condition: 'backup_stale',
      details: { last_good: h.lastGoodDatabase ? formatJst(since) : 'none', hours: Math.floor((now.getTime() - since.getTime()) / 3600_000) },
    });
  }
  if (h.lastDrill && h.lastDrill.ok === false) {
    out.push({ condition: 'drill_failed', details: { backup_id: h.lastDrill.backup_id, error: (h.lastDrill.error ?? h.lastDrill.mismatches.join('; ')).slice(0, 300) } });
  }
  if (h.lastDatabaseBackup?.status === 'failed') {
    out.push({ condition: 'backup_failed', details: { backup_id: h.lastDatabaseBackup.id, error: (h.lastDatabaseBackup.error ?? '').slice(0, 300) } });
  }
  // A failed media backup alerts too (its own condition, so it clears on its own).
  if (h.lastMediaBackup?.status === 'failed' || h.lastMediaBackup?.status === 'bad') {
    out.push({ condition: 'backup_failed:media', details: { backup_id: h.lastMediaBackup.id, error: (h.lastMediaBackup.error ?? '').slice(0, 300) } });
  }
  if (h.suspects.length) {
    out.push({ condition: 'backup_suspect', details: { backup_ids: h.suspects.map((s) => s.id).join(', '), reasons: h.suspects.flatMap((s) => s.suspect_reasons ?? []).join('; ') } });
  }
  return out;
}

function conditionKind(condition: string): string {
  return condition.split(':')[0]!;
}

async function postWebhook(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`webhook answered ${res.status}`);
}

/** Mails the superusers (Japanese first, English below) and posts the optional webhook. */
async function notify(ctx: AppContext, alert: AlertRow, state: 'raised' | 'cleared'): Promise<void> {
  const ja = translator('ja');
  const en = translator('en');
  const kind = conditionKind(alert.condition);
  const vars = Object.fromEntries(Object.entries(alert.details).map(([k, v]) => [k, String(v)]));
  const locals = { alert, state, kind, vars, en, publicUrl: ctx.config.PUBLIC_URL };
  let recipients = 0;
  let error: string | null = null;
  try {
    const to = await activeSuperuserEmails(ctx.knex);
    // Logged too, so log-based monitoring sees it and an install without superusers is not silent.
    logger.warn({ condition: alert.condition, state, details: alert.details, recipients: to.length }, `alert ${state}: ${alert.condition}`);
    if (to.length) {
      const title = { ja: ja(`backups.alerts.${kind}.title`, vars), en: en(`backups.alerts.${kind}.title`, vars) };
      await sendEmailNow(ctx, state === 'raised' ? 'alertRaised' : 'alertCleared', { to, lang: 'ja', locals, subjectDetail: title });
      recipients = to.length;
    }
  } catch (err) {
    error = (err as Error).message;
    logger.error({ err, condition: alert.condition }, 'alert e-mail failed');
  }
  if (ctx.config.ALERT_WEBHOOK_URL) {
    await postWebhook(ctx.config.ALERT_WEBHOOK_URL, {
      state,
      condition: alert.condition,
      summary: en(`backups.alerts.${kind}.title`, vars),
      details: alert.details,
      at: new Date().toISOString(),
      portal: ctx.config.PUBLIC_URL,
    }).catch((err: unknown) => {
      error = [error, `webhook: ${(err as Error).message}`].filter(Boolean).join('; ');
      logger.error({ err }, 'alert webhook failed');
    });
  }
  if (state === 'raised') await recordAlertDelivery(ctx.knex, alert.id, recipients, error);
}

/**
 * Opens an alert for each condition that became true and clears the ones
 * that stopped; each change is mailed once. The open-row unique index makes
 * this safe to run from every instance at once.
 */
export async function evaluateAlerts(ctx: AppContext, now = new Date()): Promise<{ raised: string[]; cleared: string[] }> {
  const health = await collectHealth(ctx);
  const raised: string[] = [];
  const cleared: string[] = [];
  if (!health.databaseUp) return { raised, cleared };
  const active = activeConditions(health, now, { staleHours: ctx.config.BACKUP_STALE_HOURS, minFreePercent: ctx.config.ALERT_MIN_FREE_PERCENT });
  const activeNames = new Set(active.map((a) => a.condition));
  for (const a of active) {
    const row = await openAlert(ctx.knex, a.condition, a.details);
    if (row) {
      raised.push(a.condition);
      await notify(ctx, row, 'raised');
    }
  }
  for (const open of await selectOpenAlerts(ctx.knex)) {
    if (activeNames.has(open.condition)) continue;
    const row = await clearAlert(ctx.knex, open.condition);
    if (row) {
      cleared.push(open.condition);
      await notify(ctx, row, 'cleared');
    }
  }
  return { raised, cleared };
}
