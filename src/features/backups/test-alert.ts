import type { AppContext } from '../../app-context';
import { recordAudit, listAudit } from '../../audit/service';
import { translator } from '../../i18n';
import { sendEmailNow } from '../../mail/send';
import { activeSuperuserEmails } from '../../toybox/alert-recipients';

export interface TestAlertResult {
  recipients: number;
  transport: 'smtp' | 'outbox' | 'none';
  webhook: 'ok' | 'failed' | 'none';
  error: string | null;
}

/**
 * Sends a test alert the way real alerts go (mail to every active superuser,
 * the optional webhook) and records what happened in the audit log
 * (`alert.test`), which the recovery checklist reads back.
 */
export async function sendTestAlert(ctx: AppContext, actor: string): Promise<TestAlertResult> {
  const en = translator('en');
  const errors: string[] = [];
  let recipients = 0;
  let transport: TestAlertResult['transport'] = 'none';
  const to = await activeSuperuserEmails(ctx.knex);
  if (!to.length) errors.push('no active superuser has an e-mail address');
  else {
    try {
      // Sent now, not queued: the admin who pressed the button reads whether the channel works.
      const r = await sendEmailNow(ctx, 'alertTest', { to, lang: 'ja', locals: { en, publicUrl: ctx.config.PUBLIC_URL, sentAt: new Date(), actor } });
      recipients = r.accepted.length;
      transport = ctx.mailer.kind;
      if (r.rejected.length) errors.push(`rejected: ${r.rejected.length} recipient(s)`);
    } catch (err) {
      errors.push(`mail: ${(err as Error).message}`);
    }
  }
  let webhook: TestAlertResult['webhook'] = 'none';
  if (ctx.config.ALERT_WEBHOOK_URL) {
    try {
      const res = await fetch(ctx.config.ALERT_WEBHOOK_URL, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ state: 'test', condition: 'test', summary: en('backups.test_alert.subject'), at: new Date().toISOString(), portal: ctx.config.PUBLIC_URL }),
        signal: AbortSignal.timeout(5000),
      });
      webhook = res.ok ? 'ok' : 'failed';
      if (!res.ok) errors.push(`webhook answered ${res.status}`);
    } catch (err) {
      webhook = 'failed';
      errors.push(`webhook: ${(err as Error).message}`);
    }
  }
  const result: TestAlertResult = { recipients, transport, webhook, error: errors.length ? errors.join('; ').slice(0, 500) : null };
  await recordAudit(ctx.knex, actor, 'alert.test', null, { ...result });
  return result;
}

/** The newest test alert from the audit log, if any. */
export async function lastTestAlert(ctx: AppContext): Promise<(TestAlertResult & { at: Date; actor: string }) | null> {
  const [entry] = await listAudit(ctx.knex, 1, 'alert.test');
  if (!entry) return null;
  return { ...(entry.details as unknown as TestAlertResult), at: entry.at, actor: entry.actor };
}
