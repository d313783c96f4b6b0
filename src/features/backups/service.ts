import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { AppContext } from '../../app-context';
import { recordAudit } from '../../audit/service';
import { logger } from '../../logger';
import { enqueueJob } from '../../jobs/runner';
import { ensurePrivateDir } from '../../files/private';
import { Busy, Conflict, Invalid, NotFound } from '../../http/errors';
import { evaluateAlerts } from './alerts';
import { selectPrunable } from './retention';
import { planRestore, restorePostgres, type RestorePlan } from './restore';
import { backupPath, drillBackup, MANIFEST_FILE, runDatabaseBackup, runMediaBackup, type Progress } from './run';
import { runProgram } from '../../system/programs';
import { sha256File } from '../../files/sha256';
import {
  findBackup,
  selectBackups,
  selectDrills,
  selectRecentAlerts,
  selectOpenAlerts,
  selectUnacknowledgedSuspects,
  updateBackup,
  type BackupKind,
  type BackupRow,
} from './repo';

export { evaluateAlerts, type BackupRow };

/** The advisory-lock key all instances agree on ("TOYBOXBK"). */
const LOCK_KEY = '5426511289512855371';

/**
 * Runs fn holding the backup lock on a dedicated connection, so one instance
 * (or the CLI) backs up at a time; null when someone else holds it. The
 * embedded database has a single process, so it needs no lock.
 */
export async function withBackupLock<T>(ctx: AppContext, fn: () => Promise<T>): Promise<T | null> {
  if (ctx.config.embedded) return fn();
  const client = new pg.Client({ connectionString: ctx.databaseUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const got = (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [LOCK_KEY])).rows[0]!.ok;
    if (!got) return null;
    try {
      return await fn();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

export class BackupBusy extends Busy {
  constructor() {
    super('backups.errors.busy');
  }
}

/**
 * One backup of a kind, then pruning and an alert check: what the schedule,
 * the CLI and the admin button all run. Null when the scheduled slot was already taken.
 */
export async function backupNow(
  ctx: AppContext,
  kind: BackupKind,
  opts: { trigger: string; scheduledFor?: Date | null; progress?: Progress },
): Promise<BackupRow | null> {
  const result = await withBackupLock(ctx, async () => {
    try {
      const backup = kind === 'database' ? await runDatabaseBackup(ctx, opts) : await runMediaBackup(ctx, opts);
      if (backup) await pruneBackups(ctx, opts.progress);
      return { backup };
    } finally {
      await evaluateAlerts(ctx).catch((err: unknown) => logger.error({ err }, 'alert evaluation failed'));
    }
  });
  if (result === null) {
    if (opts.scheduledFor) return null;
    throw new BackupBusy();
  }
  return result.backup;
}

/**
 * Queues a backup (job `backups.run`, src/jobs/registry.ts) that a worker instance makes after the caller
 * answers (it takes minutes; the admin page shows it as running). What can be refused at once is refused
 * here, before anything is queued: a media backup without TOYBOX_MEDIA_DIR is a Conflict.
 */
export async function startBackup(ctx: AppContext, kind: BackupKind, trigger: string): Promise<string | null> {
  if (kind === 'media' && !ctx.config.TOYBOX_MEDIA_DIR) throw Conflict('backups.errors.no_media_dir');
  return enqueueJob(ctx, 'backupRun', { kind, trigger });
}

export function keepPolicy(ctx: AppContext) {
  return { daily: ctx.config.BACKUP_KEEP_DAILY, weekly: ctx.config.BACKUP_KEEP_WEEKLY, monthly: ctx.config.BACKUP_KEEP_MONTHLY };
}

/**
 * Deletes good backups outside the retention policy. Nothing is deleted while
 * any suspect backup awaits acknowledgement: a wipe must not rotate away the
 * last good copies. After acknowledgement, the last good backup from before
 * the drop is still kept for BACKUP_WIPE_KEEP_DAYS.
 */
export async function pruneBackups(ctx: AppContext, progress: Progress = () => undefined): Promise<{ pruned: number[]; blockedBy: number[] }> {
  const suspects = await selectUnacknowledgedSuspects(ctx.knex);
  if (suspects.length) {
    progress(`pruning stopped: suspect backup(s) ${suspects.map((s) => s.id).join(', ')} await acknowledgement`);
    return { pruned: [], blockedBy: suspects.map((s) => s.id) };
  }
  const pruned: number[] = [];
  for (const kind of ['database', 'media'] as const) {
    const rows = await selectBackups(ctx.knex, { kind });
    const candidates = rows.map((r) => ({
      id: r.id,
      startedAt: r.started_at,
      status: r.status,
      wipeSuspect: (r.suspect_reasons ?? []).length > 0,
      acknowledgedAt: r.acknowledged_at,
    }));
    const ids = selectPrunable(candidates, keepPolicy(ctx), { now: new Date(), days: ctx.config.BACKUP_WIPE_KEEP_DAYS });
    for (const id of ids) {
      const row = rows.find((r) => r.id === id)!;
      if (row.dir) await fs.promises.rm(backupPath(ctx, row), { recursive: true, force: true });
      await ctx.knex.transaction(async (trx) => {
        await updateBackup(trx, id, { status: 'pruned', pruned_at: new Date() });
        await recordAudit(trx, 'system:backups', 'backup.prune', `backup:${id}`, { kind, started_at: row.started_at.toISOString() });
      });
      pruned.push(id);
    }
  }
  if (pruned.length) progress(`pruned ${pruned.length} old backup(s): ${pruned.join(', ')}`);
  return { pruned, blockedBy: [] };
}

export async function getBackup(ctx: AppContext, id: number): Promise<BackupRow | undefined> {
  return findBackup(ctx.knex, id);
}

export async function listBackups(ctx: AppContext, opts: { includePruned?: boolean; limit?: number } = {}): Promise<BackupRow[]> {
  return selectBackups(ctx.knex, opts);
}

/** What the admin page and dashboard show. */
export async function overview(ctx: AppContext) {
  const [backups, drills, alerts, openAlerts, suspects] = await Promise.all([
    selectBackups(ctx.knex, { limit: 50 }),
    selectDrills(ctx.knex, 20),
    selectRecentAlerts(ctx.knex, 20),
    selectOpenAlerts(ctx.knex),
    selectUnacknowledgedSuspects(ctx.knex),
  ]);
  const lastGood = backups.find((b) => b.kind === 'database' && b.status === 'good') ?? null;
  return { backups, drills, alerts, openAlerts, suspects, lastGood, lastDrill: drills[0] ?? null };
}

export interface VerifyReport {
  id: number;
  ok: boolean;
  problems: string[];
  drill?: { ok: boolean; mismatches: string[]; error: string | null };
}

/**
 * Re-reads a backup: manifest present and matching, every file's size and
 * SHA-256, the archive readable (pg_restore --list / tar -t), and with
 * `drill` a full restore drill. Any problem marks the backup bad.
 */
export async function verifyBackup(ctx: AppContext, id: number, opts: { drill?: boolean; progress?: Progress } = {}): Promise<VerifyReport> {
  const backup = await findBackup(ctx.knex, id);
  if (!backup) throw NotFound('backups.errors.not_found', { id });
  if (['running', 'failed', 'pruned'].includes(backup.status)) {
    return { id, ok: false, problems: [`backup ${id} is ${backup.status}: there are no complete files to verify`] };
  }
  const progress = opts.progress ?? (() => undefined);
  const problems: string[] = [];
  try {
    const manifest = JSON.parse(await fs.promises.readFile(backupPath(ctx, backup, MANIFEST_FILE), 'utf8')) as { files?: Array<{ name: string; sha256: string }> };
    const onDisk = new Map((manifest.files ?? []).map((f) => [f.name, f.sha256]));
    for (const f of backup.files) if (onDisk.get(f.name) !== f.sha256) problems.push(`${MANIFEST_FILE} disagrees with the recorded SHA-256 of ${f.name}`);
  } catch (err) {
    problems.push(`${MANIFEST_FILE} unreadable: ${(err as Error).message}`);
  }
  for (const f of backup.files) {
    const full = backupPath(ctx, backup, f.name);
    progress(`verify: ${f.name}`);
    const stat = await fs.promises.stat(full).catch(() => null);
    if (!stat) {
      problems.push(`${f.name} is missing`);
      continue;
    }
    if (stat.size !== f.size) problems.push(`${f.name}: size ${stat.size}, manifest says ${f.size}`);
    const sha = await sha256File(full);
    if (sha !== f.sha256) problems.push(`${f.name}: SHA-256 ${sha} does not match the manifest (${f.sha256})`);
    const readable = await readArchive(ctx, f.name, full);
    if (readable) problems.push(`${f.name}: ${readable}`);
  }
  let drill: VerifyReport['drill'];
  if (opts.drill && backup.kind === 'database') {
    const d = await drillBackup(ctx, backup, progress);
    drill = { ok: d.ok, mismatches: d.mismatches, error: d.error };
    if (!d.ok) problems.push(`restore drill failed: ${d.error ?? d.mismatches.join('; ')}`);
  }
  if (problems.length) await updateBackup(ctx.knex, id, { status: 'bad', error: problems.join('; ').slice(0, 2000) });
  else await updateBackup(ctx.knex, id, { verified_at: new Date() });
  if (problems.length || drill) await evaluateAlerts(ctx).catch(() => undefined);
  return { id, ok: problems.length === 0, problems, drill };
}

async function readArchive(ctx: AppContext, name: string, full: string): Promise<string | null> {
  if (name.endsWith('.dump')) {
    const r = await runProgram(ctx.config.PG_BIN ? path.join(ctx.config.PG_BIN, 'pg_restore') : 'pg_restore', ['--list', full]);
    return r.code === 0 ? null : `pg_restore cannot read the archive (${r.stderr.trim().slice(-200)})`;
  }
  const r = await runProgram('tar', name.endsWith('.gz') ? ['-tzf', full] : ['-tf', full]);
  return r.code === 0 ? null : `tar cannot read the archive (${r.stderr.trim().slice(-200)})`;
}

/** Checks a restore can start and says what it will do; refuses a target holding TOYBOX rows unless forced. */
export async function prepareRestore(ctx: AppContext, id: number, target: { url?: string; dir?: string }, force: boolean): Promise<{ backup: BackupRow; plan: RestorePlan | { target: string; mode: 'pglite-data-dir'; steps: string[] } }> {
  const backup = await findBackup(ctx.knex, id);
  if (!backup || backup.kind !== 'database') throw NotFound('backups.errors.not_found', { id });
  if (!['good', 'suspect'].includes(backup.status)) throw Conflict('backups.errors.not_restorable', { id, status: backup.status });
  const file = backup.files[0];
  if (!file) throw Conflict('backups.errors.no_files', { id });
  const full = backupPath(ctx, backup, file.name);
  if ((await sha256File(full).catch(() => '')) !== file.sha256) throw Conflict('backups.errors.checksum', { id, file: file.name });
  if (file.name.endsWith('.tar.gz')) {
    if (!target.dir) throw Invalid(null, 'backups.errors.needs_target_dir');
    const entries = await fs.promises.readdir(target.dir).catch(() => [] as string[]);
    if (entries.length && !force) throw Conflict('backups.errors.dir_not_empty', { dir: target.dir });
    return { backup, plan: { target: target.dir, mode: 'pglite-data-dir', steps: [`unpack ${file.name} into ${target.dir}`, `then start the portal with DATA_DIR whose pglite/ is ${target.dir}`] } };
  }
  if (!target.url) throw Invalid(null, 'backups.errors.needs_target');
  const plan = await planRestore(full, target.url, id);
  if (plan.rowsInTarget > 0 && !force) {
    const besides = Object.entries(plan.migrationRows).map(([t, n]) => `${n} ${t}`).join(', ');
    throw Conflict(besides ? 'backups.errors.target_has_rows_besides' : 'backups.errors.target_has_rows', { rows: plan.rowsInTarget, tables: plan.tablesWithRows.join(', '), besides });
  }
  return { backup, plan };
}

/** Performs a prepared restore and returns the per-table comparison with the manifest. */
export async function performRestore(ctx: AppContext, backup: BackupRow, plan: Awaited<ReturnType<typeof prepareRestore>>['plan'], target: { url?: string; dir?: string }) {
  const full = backupPath(ctx, backup, backup.files[0]!.name);
  if (plan.mode === 'pglite-data-dir') {
    await ensurePrivateDir(target.dir!);
    const r = await runProgram('tar', ['-xzf', full, '-C', target.dir!]);
    if (r.code !== 0) throw new Error(`tar exited with ${r.code}: ${r.stderr.slice(-300)}`);
    return { mismatches: [], counts: backup.row_counts ?? {} };
  }
  return restorePostgres(full, target.url!, ctx.config.PG_BIN, plan, backup.row_counts ?? {});
}

/**
 * An admin confirms a suspect backup's drop was intended (or has been dealt
 * with): it becomes good, pruning resumes, and the alert clears. Audited.
 */
export async function acknowledgeBackup(ctx: AppContext, id: number, actor: string): Promise<BackupRow> {
  const updated = await ctx.knex.transaction(async (trx) => {
    const backup = await findBackup(trx, id);
    if (!backup) throw NotFound('backups.errors.not_found', { id });
    if (backup.status !== 'suspect') throw Conflict('backups.errors.not_suspect', { id });
    const row = await updateBackup(trx, id, { status: 'good', acknowledged_at: new Date(), acknowledged_by: actor });
    await recordAudit(trx, actor, 'backup.acknowledge', `backup:${id}`, { reasons: backup.suspect_reasons ?? [] });
    return row;
  });
  await evaluateAlerts(ctx).catch((err: unknown) => logger.error({ err }, 'alert evaluation failed'));
  return updated;
}

