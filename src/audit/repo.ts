import type { Knex } from 'knex';

export interface AuditEntry {
  id: number;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
}

export async function insertAudit(
  db: Knex | Knex.Transaction,
  entry: Omit<AuditEntry, 'id' | 'at'>,
): Promise<void> {
  await db('portal.audit_log').insert({ ...entry, details: JSON.stringify(entry.details) });
}

export async function selectRecentAudit(db: Knex, limit: number, actionPrefix?: string): Promise<AuditEntry[]> {
  const q = db<AuditEntry>('portal.audit_log').orderBy('id', 'desc').limit(limit);
  if (actionPrefix) q.whereLike('action', `${actionPrefix}%`);
  return q;
}
