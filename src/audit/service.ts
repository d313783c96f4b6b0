import os from 'node:os';
import type { Knex } from 'knex';
import { insertAudit, selectRecentAudit, type AuditEntry } from './repo';

export type { AuditEntry };

/** Who acted: a signed-in portal user, or the operator at the host's shell. */
export function userActor(user: { id: number; display_id: string }): string {
  return `user:${user.id}:${user.display_id}`;
}

export function cliActor(): string {
  let name = 'unknown';
  try {
    name = os.userInfo().username;
  } catch {
    // no passwd entry (some containers): keep "unknown"
  }
  return `cli:${name}@${os.hostname()}`;
}

/**
 * Records an action in the audit log. Pass the transaction that made the
 * change so the record and the change commit (or roll back) together.
 * `details` must never hold secrets: tokens and passwords stay out.
 */
export async function recordAudit(
  db: Knex | Knex.Transaction,
  actor: string,
  action: string,
  target: string | null = null,
  details: Record<string, unknown> = {},
): Promise<void> {
  await insertAudit(db, { actor, action, target, details });
}

/** The newest audit entries, optionally only actions starting with a prefix such as "notice.". */
export async function listAudit(db: Knex, limit = 100, actionPrefix?: string): Promise<AuditEntry[]> {
  return selectRecentAudit(db, limit, actionPrefix);
}
