import type { Knex } from 'knex';
import { countsSql, findKind } from '../../toybox/personal-data';
import type { ExportFormat } from './archive';

type Db = Knex | Knex.Transaction;

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'expired';

export interface ExportJob {
  id: string;
  user_id: number;
  requested_by: string;
  counted: boolean;
  format: ExportFormat;
  mode: 'stream' | 'background';
  status: JobStatus;
  lang: 'ja' | 'en';
  notify_email: string | null;
  file_path: string | null;
  file_name: string | null;
  size_bytes: string | null;
  sha256: string | null;
  row_count: string | null;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  expires_at: Date | null;
  /** The process running it (src/jobs/ownership.ts); null while queued. */
  owner: string | null;
  attempts: number;
}

const JOBS = 'portal.export_jobs';
/** A running job older than this died with its process; it no longer blocks anything. */
const STALE_RUNNING = "interval '1 hour'";

export async function insertJob(
  db: Db,
  job: Pick<ExportJob, 'id' | 'user_id' | 'requested_by' | 'counted' | 'format' | 'mode' | 'status' | 'lang' | 'notify_email' | 'owner'>,
): Promise<ExportJob> {
  const [row] = await db(JOBS)
    .insert({ ...job, attempts: job.status === 'running' ? 1 : 0, started_at: job.status === 'running' ? db.fn.now() : null })
    .returning('*');
  return row as ExportJob;
}

export async function findJob(db: Db, id: string): Promise<ExportJob | undefined> {
  if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
  return db(JOBS).where({ id }).first();
}

/** Claims a queued job for this process; false when another worker (or an earlier delivery) already did. */
export async function markRunning(db: Db, id: string, owner: string): Promise<boolean> {
  const n = await db(JOBS)
    .where({ id, status: 'queued' })
    .update({ status: 'running', started_at: db.fn.now(), owner, attempts: db.raw('attempts + 1') });
  return n === 1;
}

/** Every running job with its owner, for the orphan check. */
export async function listRunning(db: Db): Promise<ExportJob[]> {
  return db(JOBS).where({ status: 'running' }).orderBy('started_at').limit(500);
}

/** Puts a job whose process died back in the queue; false when its state moved on meanwhile. */
export async function requeueOrphan(db: Db, id: string, deadOwner: string | null): Promise<boolean> {
  const n = await db(JOBS)
    .where({ id, status: 'running' })
    .where((q) => (deadOwner === null ? q.whereNull('owner') : q.where({ owner: deadOwner })))
    .update({ status: 'queued', owner: null, started_at: null, error: 'interrupted: the portal process stopped; queued again' });
  return n === 1;
}

/** Fails a job whose process died; false when its state moved on meanwhile. */
export async function failOrphan(db: Db, id: string, deadOwner: string | null, error: string): Promise<boolean> {
  const n = await db(JOBS)
    .where({ id, status: 'running' })
    .where((q) => (deadOwner === null ? q.whereNull('owner') : q.where({ owner: deadOwner })))
    .update({ status: 'failed', error, finished_at: db.fn.now() });
  return n === 1;
}

export async function markDone(
  db: Db,
  id: string,
  r: { file_path: string; file_name: string; size_bytes: number; sha256: string; row_count: number; expiresInSeconds: number },
): Promise<ExportJob> {
  const [row] = await db(JOBS)
    .where({ id })
    .update({
      status: 'done',
      file_path: r.file_path,
      file_name: r.file_name,
      size_bytes: r.size_bytes,
      sha256: r.sha256,
      row_count: r.row_count,
      finished_at: db.fn.now(),
      expires_at: db.raw('now() + make_interval(secs => ?)', [r.expiresInSeconds]),
    })
    .returning('*');
  return row as ExportJob;
}

export async function markFailed(db: Db, id: string, error: string): Promise<void> {
  await db(JOBS).where({ id }).update({ status: 'failed', error: error.slice(0, 500), finished_at: db.fn.now() });
}

export async function markExpired(db: Db, id: string): Promise<void> {
  await db(JOBS).where({ id }).update({ status: 'expired', file_path: null });
}

/** A finished archive of the same format from the last few minutes, still on disk. */
export async function findReusable(db: Db, userId: number, format: ExportFormat, minutes: number): Promise<ExportJob | undefined> {
  return db(JOBS)
    .where({ user_id: userId, format, status: 'done' })
    .whereNotNull('file_path')
    .where('finished_at', '>', db.raw('now() - make_interval(mins => ?)', [minutes]))
    .where('expires_at', '>', db.fn.now())
    .orderBy('finished_at', 'desc')
    .first();
}

/** The newest export the user asked for that counts toward the cooldown (failed ones never count). */
export async function latestCounted(db: Db, userId: number, hours: number): Promise<ExportJob | undefined> {
  return db(JOBS)
    .where({ user_id: userId, counted: true })
    .whereIn('status', ['queued', 'running', 'done', 'expired'])
    // a streamed export that died with its process never finished: it must not block the user for a day
    .where((q) => q.whereNot({ status: 'running', mode: 'stream' }).orWhere('started_at', '>', db.raw(`now() - ${STALE_RUNNING}`)))
    .where('created_at', '>', db.raw('now() - make_interval(secs => ?)', [hours * 3600]))
    .orderBy('created_at', 'desc')
    .first();
}

export async function countRunningStreams(db: Db): Promise<number> {
  const row = await db(JOBS)
    .where({ status: 'running', mode: 'stream' })
    .where('started_at', '>', db.raw(`now() - ${STALE_RUNNING}`))
    .count<{ n: string }[]>({ n: '*' });
  return Number(row[0]?.n ?? 0);
}

/** The user's own exports, newest first. */
export async function listJobsForUser(db: Db, userId: number, limit = 10): Promise<ExportJob[]> {
  // Staff exports for a data-subject request go to the staff member, not onto the user's page.
  return db(JOBS).where({ user_id: userId, counted: true }).orderBy('created_at', 'desc').limit(limit);
}

/** Streams whose process died mid-export (a restart) are closed as failed. */
export async function failStaleStreams(db: Db): Promise<number> {
  return db(JOBS)
    .where({ status: 'running', mode: 'stream' })
    .where('started_at', '<=', db.raw(`now() - ${STALE_RUNNING}`))
    .update({ status: 'failed', error: 'interrupted', finished_at: db.fn.now() });
}

export async function listExpiredFiles(db: Db): Promise<ExportJob[]> {
  return db(JOBS).where({ status: 'done' }).whereNotNull('file_path').where('expires_at', '<=', db.fn.now()).limit(500);
}

/** Serialises export decisions per user, so two clicks cannot both pass the cooldown. */
export async function lockUser(trx: Knex.Transaction, userId: number): Promise<void> {
  await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`portal.export:${userId}`]);
}

export async function countPersonalData(db: Db, userId: number): Promise<Record<string, number>> {
  const result = await db.raw<{ rows: Array<Record<string, string>> }>(countsSql(userId));
  const row = result.rows[0] ?? {};
  return Object.fromEntries(Object.entries(row).filter(([k]) => findKind(k)).map(([k, v]) => [k, Number(v)]));
}

export interface ExportUser {
  id: number;
  display_id: string;
  email: string | null;
  is_active: boolean;
}

export async function findExportUser(db: Db, where: { id?: number; login?: string }): Promise<ExportUser[]> {
  const q = db('public.users').select('id', 'display_id', 'email', 'is_active').limit(2);
  if (where.id !== undefined) q.where({ id: where.id });
  else if (where.login?.includes('@')) q.whereRaw('lower(email) = lower(?)', [where.login]);
  else q.where('display_id', (where.login ?? '').toLowerCase());
  return (await q).map((u: ExportUser) => ({ ...u, id: Number(u.id) }));
}

// One-time export sign-in links

const LINKS = 'portal.export_login_links';

export async function insertLoginLink(db: Db, userId: number, tokenHash: string, minutes: number): Promise<void> {
  await db(LINKS).insert({ user_id: userId, token_hash: tokenHash, expires_at: db.raw('now() + make_interval(mins => ?)', [minutes]) });
}

export async function findUsableLoginLink(db: Db, tokenHash: string): Promise<{ user_id: number } | undefined> {
  return db(LINKS).where({ token_hash: tokenHash }).whereNull('used_at').where('expires_at', '>', db.fn.now()).first('user_id');
}

/** Marks the link used and returns its user, atomically: a second use finds nothing. */
export async function consumeLoginLink(db: Db, tokenHash: string): Promise<number | null> {
  const rows = await db(LINKS)
    .where({ token_hash: tokenHash })
    .whereNull('used_at')
    .where('expires_at', '>', db.fn.now())
    .update({ used_at: db.fn.now() })
    .returning('user_id');
  return rows[0] ? Number((rows[0] as { user_id: string }).user_id) : null;
}

/** Figures for the staff dashboard panel. */
export async function jobStats(db: Db): Promise<{ last24h: number; waiting: number; stored: number; failed24h: number }> {
  const r = await db.raw<{ rows: Array<Record<string, string>> }>(`
    SELECT count(*) FILTER (WHERE created_at > now() - interval '24 hours') AS last24h,
           count(*) FILTER (WHERE status IN ('queued', 'running')) AS waiting,
           count(*) FILTER (WHERE status = 'done' AND file_path IS NOT NULL) AS stored,
           count(*) FILTER (WHERE status = 'failed' AND created_at > now() - interval '24 hours') AS failed24h
    FROM portal.export_jobs`);
  const row = r.rows[0] ?? {};
  return { last24h: Number(row.last24h ?? 0), waiting: Number(row.waiting ?? 0), stored: Number(row.stored ?? 0), failed24h: Number(row.failed24h ?? 0) };
}
