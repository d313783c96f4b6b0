import type { AppContext } from '../../app-context';
import type { RecoveryCheck } from '../feature';
import { superuserSignIns } from '../../toybox/superuser-sign-ins';

/** Checklist line "admin": a superuser exists and has signed in (TOYBOX's users: is_superuser, last_login). */
export async function bootstrapRecoveryChecks(ctx: AppContext): Promise<RecoveryCheck[]> {
  const { count, lastLogin } = await superuserSignIns(ctx.knex);
  if (count === 0) return [{ id: 'admin', state: 'todo', detail: 'admin.none' }];
  if (!lastLogin) return [{ id: 'admin', state: 'warn', detail: 'admin.never_signed_in', vars: { count } }];
  return [{ id: 'admin', state: 'done', detail: 'admin.signed_in', vars: { count, at: lastLogin } }];
}
