import type { Knex } from 'knex';
import type { RowCounts } from './wipe-guard';

export type BackupKind = 'database' | 'media';
export type BackupStatus = 'running' | 'good' | 'suspect' | 'bad' | 'failed' | 'pruned';

export interface BackupFile {
  name: string;
  size: number;
  sha256: string;
}

export interface BackupRow {
  id: number;
  kind: BackupKind;
  status: BackupStatus;
  trigger: string;
  scheduled_for: Date | null;
  started_at: Date;
  finished_at: Date | null;
  dir: string | null;
  files: BackupFile[];
  total_bytes: number;
  row_counts: RowCounts | null;
  manifest: Record<string, unknown> | null;
  error: string | null;
  suspect_reasons: string[] | null;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  verified_at: Date | null;
  offhost_exit_code: number | null;
  offhost_at: Date | null;
  offhost_output: string | null;
  pruned_at: Date | null;
  /** The process running it (src/jobs/ownership.ts). */
  owner: string | null;
}

export interface DrillRow {
  id: number;
  backup_id: number;
  started_at: Date;
  finished_at: Date | null;
  ok: boolean | null;
  checksum_ok: boolean | null;
  scratch: string | null;
  expected: RowCounts | null;
  actual: RowCounts | null;
  mismatches: string[];
  error: string | null;
}

export interface AlertRow {
  id: number;
  condition: string;
  details: Record<string, unknown>;
  raised_at: Date;
  cleared_at: Date | null;
  notified_recipients: number;
  notify_error: string | null;
}

type Db = Knex | Knex.Transaction;
const JSON_COLUMNS = new Set(['files', 'row_counts', 'manifest', 'suspect_reasons', 'expected', 'actual', 'mismatches', 'details']);

function encode(patch: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(patch).map(([k, v]) => [k, JSON_COLUMNS.has(k) && v !== null && v !== undefined ? JSON.stringify(v) : v]));
}

/** A new running backup; null when another instance already took this scheduled slot. */
export async function insertRunningBackup(
  db: Db,
  row: { kind: BackupKind; trigger: string; scheduled_for: Date | null; started_at?: Date; owner?: string | null },
): Promise<BackupRow | null> {
  const rows = await db.raw<{ rows: BackupRow[] }>(
    `INSERT INTO portal.backups (kind, trigger, scheduled_for, started_at, owner) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT DO NOTHING RETURNING *`,
    [row.kind, row.trigger, row.scheduled_for, row.started_at ?? new Date(), row.owner ?? null],
  );
  return rows.rows[0] ?? null;
}

export async function updateBackup(db: Db, id: number, patch: Partial<BackupRow>): Promise<BackupRow> {
  const [row] = await db('portal.backups').where({ id }).update(encode(patch)).returning('*');
  return row as BackupRow;
}

export async function findBackup(db: Db, id: number): Promise<BackupRow | undefined> {
  return db('portal.backups').where({ id }).first<BackupRow | undefined>();
}

/** The newest good backup of a kind (suspect ones are not a baseline until acknowledged). */
export async function findLastGood(db: Db, kind: BackupKind, excludeId?: number): Promise<BackupRow | undefined> {
  const q = db('portal.backups').where({ kind, status: 'good' }).orderBy([{ column: 'started_at', order: 'desc' }, { column: 'id', order: 'desc' }]);
  if (excludeId !== undefined) q.whereNot({ id: excludeId });
  return q.first<BackupRow | undefined>();
}

export async function selectBackups(db: Db, opts: { includePruned?: boolean; kind?: BackupKind; limit?: number } = {}): Promise<BackupRow[]> {
  const q = db('portal.backups').orderBy([{ column: 'started_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(opts.limit ?? 1000);
  if (!opts.includePruned) q.whereNot({ status: 'pruned' });
  if (opts.kind) q.where({ kind: opts.kind });
  return q.select<BackupRow[]>('*');
}

export async function selectUnacknowledgedSuspects(db: Db): Promise<BackupRow[]> {
  return db('portal.backups').where({ status: 'suspect' }).orderBy('started_at', 'desc').select<BackupRow[]>('*');
}

export async function insertDrill(db: Db, backupId: number, expected: RowCounts | null): Promise<number> {
  const [row] = await db('portal.backup_drills').insert(encode({ backup_id: backupId, expected })).returning('id');
  return Number((row as { id: number }).id);
}

export async function finishDrill(db: Db, id: number, patch: Partial<DrillRow>): Promise<DrillRow> {
  const [row] = await db('portal.backup_drills').where({ id }).update(encode({ ...patch, finished_at: new Date() })).returning('*');
  return row as DrillRow;
}

export async function selectDrills(db: Db, limit = 20): Promise<DrillRow[]> {
  return db('portal.backup_drills').whereNotNull('finished_at').orderBy('started_at', 'desc').limit(limit).select<DrillRow[]>('*');
}

export async function selectOpenAlerts(db: Db): Promise<AlertRow[]> {
  return db('portal.alerts').whereNull('cleared_at').orderBy('raised_at').select<AlertRow[]>('*');
}

export async function selectRecentAlerts(db: Db, limit = 20): Promise<AlertRow[]> {
  return db('portal.alerts').orderBy('raised_at', 'desc').limit(limit).select<AlertRow[]>('*');
}

/** Opens an alert; null when one is already open for the condition (so it is mailed once). */
export async function openAlert(db: Db, condition: string, details: Record<string, unknown>): Promise<AlertRow | null> {
  const r = await db.raw<{ rows: AlertRow[] }>(
    `INSERT INTO portal.alerts (condition, details) VALUES (?, ?::jsonb) ON CONFLICT DO NOTHING RETURNING *`,
    [condition, JSON.stringify(details)],
  );
  return r.rows[0] ?? null;
}

/** Clears the open alert of a condition; null when none was open (or another instance cleared it). */
export async function clearAlert(db: Db, condition: string): Promise<AlertRow | null> {
  const [row] = await db('portal.alerts').where({ condition }).whereNull('cleared_at').update({ cleared_at: new Date() }).returning('*');
  return (row as AlertRow | undefined) ?? null;
}

export async function recordAlertDelivery(db: Db, id: number, recipients: number, error: string | null): Promise<void> {
  await db('portal.alerts').where({ id }).update({ notified_recipients: recipients, notify_error: error });
}

/** When the backups feature was installed: the clock for "no good backup for 26 hours" on a fresh system. */
export async function backupsInstalledAt(db: Db): Promise<Date | null> {
  const row = await db('portal.knex_migrations').where('name', 'like', '20261130500000_%').first<{ migration_time: Date } | undefined>('migration_time');
  return row?.migration_time ?? null;
}

export async function selectRunningBackups(db: Db): Promise<BackupRow[]> {
  return db('portal.backups').where({ status: 'running' }).orderBy('started_at').select<BackupRow[]>('*');
}

/** Fails a backup whose process died; false when its state moved on meanwhile (it finished after all). */
export async function failOrphanedBackup(db: Db, id: number, deadOwner: string | null): Promise<boolean> {
  const n = await db('portal.backups')
    .where({ id, status: 'running' })
    .where((q) => (deadOwner === null ? q.whereNull('owner') : q.where({ owner: deadOwner })))
    .update({ status: 'failed', error: 'interrupted: the process running this backup stopped', finished_at: new Date() });
  return n === 1;
}
