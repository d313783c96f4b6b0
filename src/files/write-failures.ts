import { EventEmitter } from 'node:events';
import type { Knex } from 'knex';
import { logger } from '../logger';

/**
 * What the portal was writing when a write failed: `export`, `backup`,
 * `outbox`, `notice`, `upload`. Alerts name the area, so the operator knows
 * which work stopped (the backups feature turns recent failures into a
 * `write_failed:<area>` alert; other features only report them here).
 */
export type WriteArea = 'export' | 'backup' | 'outbox' | 'notice' | 'upload';

export interface WriteFailure {
  area: WriteArea;
  path: string;
  code: string;
  message: string;
}

const events = new EventEmitter();

/** Disk full or quota exceeded: the one failure freeing space fixes. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

const WRITE_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EFBIG', 'EACCES', 'EPERM']);
const WRITE_CALLS = new Set(['open', 'write', 'writev', 'close', 'fsync', 'fdatasync', 'rename', 'mkdir', 'copyfile', 'chmod', 'fchmod', 'ftruncate', 'link', 'symlink', 'unlink']);

/** An error from writing to the filesystem (open, write, mkdir, rename...), not from a program, the network or the database. */
export function isWriteFailure(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException | null;
  return Boolean(e && typeof e.code === 'string' && typeof e.syscall === 'string' && WRITE_ERRORS.has(e.code) && WRITE_CALLS.has(e.syscall));
}

export function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException | null)?.code ?? 'EUNKNOWN';
}

/**
 * Records a failed write (logged, kept in portal.write_failures for every
 * instance's alert check, and announced in process so an alert goes out at
 * once). Never throws: reporting must not turn one failure into two.
 */
export async function reportWriteFailure(db: Knex, area: WriteArea, file: string, err: unknown): Promise<void> {
  const failure: WriteFailure = { area, path: file, code: errorCode(err), message: String((err as Error)?.message ?? err).slice(0, 500) };
  logger.error({ area, path: file, code: failure.code, err }, `write failed (${area}): ${failure.code}`);
  failedHere.add(area);
  await db('portal.write_failures')
    .insert(failure)
    .catch((e: unknown) => logger.error({ err: e }, 'could not record the write failure'));
  events.emit('failure', failure);
}

/** Areas this process saw fail since it last cleared them, and when each area was last checked for clearing. */
const failedHere = new Set<WriteArea>();
const lastClearCheck = new Map<WriteArea, number>();
/** A success clears another instance's failures within this long (one cheap UPDATE per area at most this often). */
const CLEAR_CHECK_MS = 10_000;

/**
 * Records that a write of `area` succeeded: its open failures are cleared, so the
 * `write_failed:<area>` alert clears at the next check, which is triggered at once
 * in this process. Cheap on hot paths (the outbox writes a file per message): at
 * most one UPDATE per area every 10 s, unless this process saw the area fail.
 * Never throws.
 */
export async function reportWriteSuccess(db: Knex, area: WriteArea, now = Date.now()): Promise<void> {
  if (!failedHere.has(area) && now - (lastClearCheck.get(area) ?? -Infinity) < CLEAR_CHECK_MS) return;
  lastClearCheck.set(area, now);
  failedHere.delete(area);
  try {
    const n = await db('portal.write_failures').where({ area }).whereNull('cleared_at').update({ cleared_at: db.fn.now() });
    if (n > 0) {
      logger.info({ area, cleared: n }, `write succeeded again (${area}): write failures cleared`);
      events.emit('success', area);
    }
  } catch (err) {
    logger.warn({ err, area }, 'could not clear the write failures');
  }
}

/** Calls `listener` when a successful write cleared an area's failures in this process; returns the unsubscribe function. */
export function onWriteRecovered(listener: (area: WriteArea) => void): () => void {
  events.on('success', listener);
  return () => events.off('success', listener);
}

/** Calls `listener` after each reported failure in this process; returns the unsubscribe function. */
export function onWriteFailure(listener: (f: WriteFailure) => void): () => void {
  events.on('failure', listener);
  return () => events.off('failure', listener);
}

/** The newest failure per area within the last `minutes` that no later successful write of its area cleared. */
export async function recentWriteFailures(db: Knex, minutes: number): Promise<Array<WriteFailure & { at: Date }>> {
  const r = await db.raw<{ rows: Array<WriteFailure & { at: Date }> }>(
    `SELECT DISTINCT ON (area) area, path, code, message, at FROM portal.write_failures
      WHERE at > now() - make_interval(mins => ?) AND cleared_at IS NULL ORDER BY area, at DESC`,
    [minutes],
  );
  return r.rows;
}
