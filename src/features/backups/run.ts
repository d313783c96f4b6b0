import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../files/atomic-write';
import { PRIVATE_FILE, ensurePrivateDir } from '../../files/private';
import { errorCode, isWriteFailure, reportWriteFailure, reportWriteSuccess } from '../../files/write-failures';
import type { PGlite } from '@electric-sql/pglite';
import type { AppContext } from '../../app-context';
import type { RunningContext } from '../../open-context';
import { logger } from '../../logger';
import { Conflict } from '../../http/errors';
import { workOwner } from '../../jobs/ownership';
import { evaluateAlerts } from './alerts';
import { dumpEmbedded, dumpPostgres } from './snapshot';
import { dropActiveScratch, drillEmbedded, drillPostgres, scratchName, type DrillOutcome } from './drill';
import { pgProgram } from '../../db/pg-tools';
import { programVersion, runProgram } from '../../system/programs';
import { sha256File } from '../../files/sha256';
import { detectWipe, wipeRuleFrom } from './wipe-guard';
import { failOrphanedBackup, findLastGood, finishDrill, insertDrill, insertRunningBackup, selectRunningBackups, updateBackup, type BackupFile, type BackupKind, type BackupRow } from './repo';

export type Progress = (message: string) => void;
const quiet: Progress = () => undefined;

export const DB_FILE = 'toybox.dump';
export const EMBEDDED_FILE = 'toybox-pglite.tar.gz';
export const MEDIA_FILE = 'media.tar';
export const MANIFEST_FILE = 'manifest.json';

/** The PGlite instance in embedded mode; null against a real server. */
export function embeddedDatabase(ctx: AppContext): PGlite | null {
  const running = ctx as Partial<RunningContext>;
  if (!ctx.config.embedded) return null;
  const db = running.database?.embedded?.db;
  if (!db) throw new Error('embedded mode without an open PGlite database');
  return db;
}

export function backupPath(ctx: AppContext, b: Pick<BackupRow, 'dir'>, file?: string): string {
  return path.join(ctx.config.BACKUP_DIR, b.dir ?? '', file ?? '');
}

function stampOf(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** BACKUP_DIR, its kind folder and the backup's own folder, all 0700 (a dump holds every password hash). */
async function makeBackupDir(ctx: AppContext, dir: string): Promise<void> {
  await ensurePrivateDir(ctx.config.BACKUP_DIR);
  await ensurePrivateDir(path.dirname(dir));
  await ensurePrivateDir(dir);
}

async function describeFile(dir: string, name: string): Promise<BackupFile> {
  const full = path.join(dir, name);
  // pg_dump and tar create their files through the umask; the folder kept them private meanwhile.
  await fs.promises.chmod(full, PRIVATE_FILE);
  const [stat, sha256] = await Promise.all([fs.promises.stat(full), sha256File(full)]);
  return { name, size: stat.size, sha256 };
}

async function toolVersions(ctx: AppContext, kind: BackupKind): Promise<Record<string, string | null>> {
  const versions: Record<string, string | null> = { node: process.version };
  if (kind === 'media') versions.tar = await programVersion('tar');
  else if (ctx.config.embedded) versions.pglite = 'dumpDataDir';
  else {
    versions.pg_dump = await programVersion(pgProgram(ctx.config.PG_BIN, 'pg_dump'));
    versions.pg_restore = await programVersion(pgProgram(ctx.config.PG_BIN, 'pg_restore'));
  }
  return versions;
}

async function writeManifest(dir: string, manifest: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(path.join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

interface RunOptions {
  trigger: string;
  scheduledFor?: Date | null;
  progress?: Progress;
  now?: Date;
}

async function startRow(ctx: AppContext, kind: BackupKind, opts: RunOptions): Promise<{ row: BackupRow; dir: string } | null> {
  const started = opts.now ?? new Date();
  const owner = (await workOwner(ctx)).id;
  const row = await insertRunningBackup(ctx.knex, { kind, trigger: opts.trigger, scheduled_for: opts.scheduledFor ?? null, started_at: started, owner });
  if (!row) return null;
  const rel = path.join(kind, `${stampOf(started)}-${row.id}`);
  const dir = path.join(ctx.config.BACKUP_DIR, rel);
  const updated = await updateBackup(ctx.knex, row.id, { dir: rel });
  return { row: updated, dir };
}

/**
 * Takes the run's row (null when another instance already has this slot), makes its directory and lets `write`
 * fill it; if anything fails, the row is marked failed, the partial files go, and the error is thrown on.
 */
async function writeBackup(ctx: AppContext, kind: BackupKind, opts: RunOptions, write: (row: BackupRow, dir: string) => Promise<BackupRow>): Promise<BackupRow | null> {
  const started = await startRow(ctx, kind, opts);
  if (!started) return null;
  const { row, dir } = started;
  try {
    await makeBackupDir(ctx, dir);
    return await write(row, dir);
  } catch (err) {
    await markFailed(ctx, row.id, dir, err);
    throw err;
  }
}

/** What every manifest starts with. */
function manifestHead(row: BackupRow, finishedAt: Date) {
  return {
    format: 'toybox-portal-backup/1',
    id: row.id,
    kind: row.kind,
    started_at: row.started_at.toISOString(),
    finished_at: finishedAt.toISOString(),
  };
}

/** A failed run keeps its row (and error) but not its partial files, which would only fill the disk. */
async function markFailed(ctx: AppContext, id: number, dir: string, err: unknown): Promise<void> {
  await fs.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  const diskFull = writeErrorCode(err);
  if (diskFull) await reportWriteFailure(ctx.knex, 'backup', dir, Object.assign(new Error((err as Error).message), { code: diskFull }));
  await updateBackup(ctx.knex, id, { status: 'failed', error: (err as Error).message.slice(0, 2000), finished_at: new Date() }).catch(() => undefined);
}

/** ENOSPC/EIO... from our own writes, or as pg_dump and tar word it on stderr; null for other failures. */
function writeErrorCode(err: unknown): string | null {
  if (isWriteFailure(err)) return errorCode(err);
  const message = String((err as Error).message);
  if (/No space left on device/i.test(message)) return 'ENOSPC';
  if (/Disk quota exceeded/i.test(message)) return 'EDQUOT';
  if (/Read-only file system/i.test(message)) return 'EROFS';
  if (/Input\/output error/i.test(message)) return 'EIO';
  return null;
}

/** Restores the backup's dump somewhere disposable and compares row counts; records and returns the outcome. */
const drillsInProgress = new Set<number>();

/**
 * For SIGINT/SIGTERM: drops the scratch databases of this process's running
 * drills and closes their rows as interrupted, so nothing is left behind or
 * stuck "running".
 */
export async function abandonDrills(ctx: AppContext): Promise<string[]> {
  const dropped = await dropActiveScratch();
  for (const id of [...drillsInProgress]) {
    await finishDrill(ctx.knex, id, { ok: false, error: 'interrupted before it finished (SIGINT/SIGTERM); the scratch database was dropped' });
    drillsInProgress.delete(id);
  }
  return dropped;
}

/** The drill was abandoned by SIGINT/SIGTERM while it ran: says nothing about the backup itself. */
export class DrillInterrupted extends Error {
  constructor() {
    super('the restore drill was interrupted; the backup was not judged');
  }
}

export async function drillBackup(ctx: AppContext, backup: BackupRow, progress: Progress = quiet): Promise<DrillOutcome & { checksumOk: boolean }> {
  const expected = backup.row_counts ?? {};
  const drillId = await insertDrill(ctx.knex, backup.id, expected);
  drillsInProgress.add(drillId);
  const file = backup.files[0]!;
  const full = backupPath(ctx, backup, file.name);
  progress(`drill: checking SHA-256 of ${file.name}`);
  const checksumOk = await sha256File(full).then((h) => h === file.sha256, () => false);
  const embedded = file.name === EMBEDDED_FILE;
  const scratch = embedded ? null : scratchName();
  // Named on the row before it exists, so an interrupted drill's scratch database can be found.
  if (scratch) await ctx.knex('portal.backup_drills').where({ id: drillId }).update({ scratch });
  progress(`drill: restoring into a scratch database${scratch ? ` (${scratch})` : ''}`);
  const outcome = embedded ? await drillEmbedded(full, expected) : await drillPostgres(ctx.databaseUrl, ctx.config.PG_BIN, full, expected, scratch!);
  // abandonDrills() closed the row and dropped the scratch database under us: a failure caused by the
  // interruption must not mark a good backup bad.
  if (!drillsInProgress.has(drillId)) throw new DrillInterrupted();
  const ok = checksumOk && outcome.ok;
  const error = [checksumOk ? null : 'SHA-256 does not match the manifest', outcome.error].filter(Boolean).join('; ') || null;
  await finishDrill(ctx.knex, drillId, { ok, checksum_ok: checksumOk, scratch: outcome.scratch, actual: outcome.actual, mismatches: outcome.mismatches, error });
  drillsInProgress.delete(drillId);
  progress(ok ? 'drill: passed, every table count matches' : `drill: FAILED ${error ?? outcome.mismatches.join('; ')}`);
  return { ...outcome, ok, error, checksumOk };
}

/** A hung copy must not hold the backup lock (and so every later backup) forever. */
const OFFHOST_TIMEOUT_MS = 4 * 3600_000;

/** Runs BACKUP_OFFHOST_COMMAND with the backup's paths in the environment; records its exit status. */
async function copyOffHost(ctx: AppContext, backup: BackupRow, progress: Progress): Promise<BackupRow> {
  const command = ctx.config.BACKUP_OFFHOST_COMMAND;
  if (!command) return backup;
  progress('off-host copy: running BACKUP_OFFHOST_COMMAND');
  const dir = backupPath(ctx, backup);
  const env = {
    BACKUP_ID: String(backup.id),
    BACKUP_KIND: backup.kind,
    BACKUP_PATH: dir,
    BACKUP_MANIFEST: path.join(dir, MANIFEST_FILE),
    BACKUP_FILES: [...backup.files.map((f) => path.join(dir, f.name)), path.join(dir, MANIFEST_FILE)].join('\n'),
  };
  const r = await runProgram('/bin/sh', ['-c', command], { env, timeoutMs: OFFHOST_TIMEOUT_MS }).catch((err: Error) => ({ code: 127, stdout: '', stderr: err.message }));
  progress(`off-host copy: exit status ${r.code}`);
  return updateBackup(ctx.knex, backup.id, { offhost_exit_code: r.code, offhost_at: new Date(), offhost_output: `${r.stdout}${r.stderr}`.slice(-4000) });
}

/**
 * Dumps the TOYBOX database (pg_dump -Fc, or PGlite's data-directory dump),
 * writes the manifest, applies the wipe guard, runs the restore drill and the
 * off-host copy. Returns null when another instance already ran this scheduled slot.
 */
export async function runDatabaseBackup(ctx: AppContext, opts: RunOptions): Promise<BackupRow | null> {
  const progress = opts.progress ?? quiet;
  let backup = await writeBackup(ctx, 'database', opts, async (row, dir) => {
    const pglite = embeddedDatabase(ctx);
    const fileName = pglite ? EMBEDDED_FILE : DB_FILE;
    progress(`backup ${row.id}: dumping the database to ${dir}`);
    const dump = pglite ? await dumpEmbedded(pglite, path.join(dir, fileName)) : await dumpPostgres(ctx.databaseUrl, ctx.config.PG_BIN, path.join(dir, fileName));
    progress(`backup ${row.id}: hashing`);
    const file = await describeFile(dir, fileName);
    const previous = await findLastGood(ctx.knex, 'database', row.id);
    const reasons = detectWipe(previous?.row_counts ?? null, dump.rowCounts, wipeRuleFrom(ctx.config));
    const finishedAt = new Date();
    const manifest = {
      ...manifestHead(row, finishedAt),
      database: { embedded: Boolean(pglite), server_version: dump.serverVersion },
      files: [file],
      total_bytes: file.size,
      row_counts: dump.rowCounts,
      tools: await toolVersions(ctx, 'database'),
    };
    await writeManifest(dir, manifest);
    // A suspect backup shows (and stops pruning, and alerts) at once; "good" waits for the drill.
    const written = await updateBackup(ctx.knex, row.id, {
      status: reasons.length ? 'suspect' : 'running',
      suspect_reasons: reasons.length ? reasons : null,
      files: [file],
      total_bytes: file.size,
      row_counts: dump.rowCounts,
      manifest,
      finished_at: finishedAt,
    });
    if (reasons.length) {
      progress(`backup ${row.id}: SUSPECT (${reasons.join('; ')}); pruning stops until acknowledged`);
      await evaluateAlerts(ctx).catch((err: unknown) => logger.error({ err }, 'alert evaluation failed'));
    }
    return written;
  });
  if (!backup) return null;
  const drill = await drillBackup(ctx, backup, progress).catch((err: Error) => ({ ok: false, error: `drill could not run: ${err.message}`, mismatches: [] as string[] }));
  if (!drill.ok) return updateBackup(ctx.knex, backup.id, { status: 'bad', error: drill.error ?? drill.mismatches.join('; ') });
  if (backup.status === 'suspect') return backup;
  backup = await updateBackup(ctx.knex, backup.id, { status: 'good' });
  await reportWriteSuccess(ctx.knex, 'backup');
  return copyOffHost(ctx, backup, progress);
}

async function walkMedia(root: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const entry of await fs.promises.readdir(root, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    files += 1;
    bytes += (await fs.promises.stat(path.join(entry.parentPath ?? root, entry.name))).size;
  }
  return { files, bytes };
}

/** A tar of TOYBOX_MEDIA_DIR (system tar), checked by listing it back; null when the slot was taken. */
export async function runMediaBackup(ctx: AppContext, opts: RunOptions): Promise<BackupRow | null> {
  const mediaDir = ctx.config.TOYBOX_MEDIA_DIR;
  if (!mediaDir) throw Conflict('backups.errors.no_media_dir');
  const progress = opts.progress ?? quiet;
  let backup = await writeBackup(ctx, 'media', opts, async (row, dir) => {
    const counted = await walkMedia(mediaDir);
    progress(`backup ${row.id}: archiving ${counted.files} media files (${counted.bytes} bytes)`);
    const r = await runProgram('tar', ['-cf', path.join(dir, MEDIA_FILE), '-C', mediaDir, '.']);
    if (r.code !== 0) throw new Error(`tar exited with ${r.code}: ${r.stderr.trim().slice(-500)}`);
    const file = await describeFile(dir, MEDIA_FILE);
    const finishedAt = new Date();
    const manifest = {
      ...manifestHead(row, finishedAt),
      media: { dir: mediaDir, files: counted.files, bytes: counted.bytes },
      files: [file],
      total_bytes: file.size,
      tools: await toolVersions(ctx, 'media'),
    };
    await writeManifest(dir, manifest);
    return updateBackup(ctx.knex, row.id, { files: [file], total_bytes: file.size, manifest, finished_at: finishedAt });
  });
  if (!backup) return null;
  const listed = await runProgram('tar', ['-tf', backupPath(ctx, backup, MEDIA_FILE)]);
  if (listed.code !== 0) return updateBackup(ctx.knex, backup.id, { status: 'bad', error: `tar cannot read the archive back: ${listed.stderr.slice(-300)}` });
  backup = await updateBackup(ctx.knex, backup.id, { status: 'good' });
  await reportWriteSuccess(ctx.knex, 'backup');
  logger.info({ id: backup.id }, 'media backup written');
  return copyOffHost(ctx, backup, progress);
}

/**
 * Backups left "running" by a process that is gone (killed mid-dump, or
 * mid-drill) are failed at once and their partial files removed; the owner
 * lock (src/jobs/ownership.ts) tells a dead process from a slow one, so no
 * 12-hour wait. Returns the ids failed.
 */
export async function recoverInterruptedBackups(ctx: AppContext): Promise<number[]> {
  const owner = await workOwner(ctx);
  const failed: number[] = [];
  for (const b of await selectRunningBackups(ctx.knex)) {
    if (!(await owner.isGone(b.owner))) continue;
    if (!(await failOrphanedBackup(ctx.knex, b.id, b.owner))) continue;
    if (b.dir) await fs.promises.rm(backupPath(ctx, b), { recursive: true, force: true });
    failed.push(b.id);
  }
  if (failed.length) logger.warn({ failed }, 'backups left by a stopped process marked failed');
  return failed;
}
