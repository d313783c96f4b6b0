import type { AppContext } from '../../app-context';
import type { RecoveryCheck } from '../feature';
import { countAddressesBySource, invitationFunnel } from './recovery-repo';

/** Checklist lines "addresses" (how many, from which sources) and "invitations" (sent, clicked, re-registered). */
export async function campaignRecoveryChecks(ctx: AppContext): Promise<RecoveryCheck[]> {
  const [addresses, funnel] = await Promise.all([countAddressesBySource(ctx.knex), invitationFunnel(ctx.knex)]);
  const sources = addresses.sources.map((s) => `${s.source} (${s.n})`).join(', ') || '-';
  const addressCheck: RecoveryCheck = addresses.total
    ? { id: 'addresses', state: 'done', detail: 'addresses.imported', vars: { count: addresses.total, sources } }
    : { id: 'addresses', state: 'todo', detail: 'addresses.none' };
  let invitations: RecoveryCheck;
  if (funnel.sent === 0 && funnel.queued === 0) invitations = { id: 'invitations', state: 'todo', detail: 'invitations.none' };
  else if (funnel.queued > 0) invitations = { id: 'invitations', state: 'warn', detail: 'invitations.sending', vars: { ...funnel } };
  else invitations = { id: 'invitations', state: 'done', detail: 'invitations.sent', vars: { ...funnel } };
  return [addressCheck, invitations];
}
