import { formatJst } from '../../i18n/tokyo-time';
import { signPayload, signaturesMatch } from '../../auth/signing';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Response } from 'express';
import type { Knex } from 'knex';
import type { AppContext } from '../../app-context';
import { TooManyRequests, Unavailable } from '../../http/errors';
import { LinkGone, type LinkNext } from '../../http/links';
import { type Lang } from '../../i18n';
import { sendEmail } from '../../mail/send';
import { logger } from '../../logger';
import { PERSONAL_DATA } from '../../toybox/personal-data';
import * as repo from './repo';
import type { ExportJob } from './repo';
import { writeZipExport, writeJsonExport, exportFileName, contentDisposition, type ExportFormat, type ExportSubject, type ExportSettings } from './archive';
import { Hasher, teeInto } from './streams';
import { enqueueJob } from '../../jobs/runner';
import { workOwner } from '../../jobs/ownership';
import { closeSink, createFileSink, ensurePrivateDir, type FileSink } from '../../files/private';
import { isWriteFailure, reportWriteFailure, reportWriteSuccess } from '../../files/write-failures';
import { loadSigningKey } from '../../auth/archive-signing';
import { toyboxHostOf } from './signature';

/** A repeat of the same format this soon after a finished export gets the same file, not a new count. */
export const REUSE_MINUTES = 5;
export const LINK_DAYS = 7;
export const LOGIN_LINK_MINUTES = 15;
/** Exports streamed at the same time across the portal; more wait in the background queue. */
const MAX_CONCURRENT_STREAMS = 1;

export function exportsDir(ctx: AppContext): string {
  return path.join(ctx.config.DATA_DIR, 'exports');
}

export async function exportSettings(ctx: AppContext, lang: Lang): Promise<ExportSettings> {
  return {
    databaseUrl: ctx.databaseUrl,
    mediaDir: ctx.config.TOYBOX_MEDIA_DIR,
    tmpDir: path.join(exportsDir(ctx), 'tmp'),
    embedded: ctx.config.embedded,
    lang,
    toyboxHost: toyboxHostOf(ctx.config.TOYBOX_URL),
    signer: { site: ctx.config.PUBLIC_URL, key: await loadSigningKey(ctx.config) },
  };
}

export function isRealEmail(email: string | null | undefined): email is string {
  return Boolean(email && email.includes('@') && !email.toLowerCase().endsWith('@toybox.local'));
}


export interface ExportOverview {
  counts: Array<{ kind: string; label: string; count: number }>;
  total: number;
  jobs: Array<ExportJob & { downloadUrl: string | null }>;
  nextAllowedAt: string | null;
  background: boolean;
}

/** What /export shows: row counts per kind, recent exports, and when the next one is possible. */
export async function describeExport(ctx: AppContext, userId: number, lang: Lang): Promise<ExportOverview> {
  const counts = await repo.countPersonalData(ctx.knex, userId);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const jobs = await repo.listJobsForUser(ctx.knex, userId);
  const next = await nextAllowedAt(ctx, userId);
  return {
    counts: PERSONAL_DATA.map((k) => ({ kind: k.kind, label: k.label[lang], count: counts[k.kind] ?? 0 })),
    total,
    jobs: jobs.map((j) => ({ ...j, downloadUrl: j.status === 'done' && j.mode === 'background' && j.file_path ? signedDownloadUrl(ctx, j) : null })),
    nextAllowedAt: next ? formatJst(next) : null,
    background: total > ctx.config.EXPORT_BACKGROUND_ROWS,
  };
}

async function nextAllowedAt(ctx: AppContext, userId: number): Promise<Date | null> {
  const hours = ctx.config.EXPORT_COOLDOWN_HOURS;
  if (hours <= 0) return null;
  const last = await repo.latestCounted(ctx.knex, userId, hours);
  return last ? new Date(last.created_at.getTime() + hours * 3600_000) : null;
}

export interface ExportRequest {
  subject: ExportSubject;
  format: ExportFormat;
  lang: Lang;
  requestedBy: string;
  /** Staff exports for a data-subject request do not use up the user's own allowance. */
  counted: boolean;
  notifyEmail: string | null;
  /** Recorded in the same transaction as the job (staff exports). */
  audit?: (trx: Knex.Transaction, job: ExportJob) => Promise<void>;
}

export type ExportDecision =
  | { action: 'reuse'; job: ExportJob }
  | { action: 'stream'; job: ExportJob }
  | { action: 'queued'; job: ExportJob; reason: 'large' | 'busy' };

/**
 * Decides how an export request is served: the same recent archive again,
 * streamed now, or built in the background (large account, or another
 * export already streaming). Enforces EXPORT_COOLDOWN_HOURS with a message
 * that says when the next export is possible.
 */
export async function requestExport(ctx: AppContext, req: ExportRequest): Promise<ExportDecision> {
  const owner = await workOwner(ctx);
  // The stream that fills the slot may belong to a process that died: free it before queueing behind a ghost.
  if ((await repo.countRunningStreams(ctx.knex)) >= MAX_CONCURRENT_STREAMS) await recoverOrphanedExports(ctx);
  const decision = await ctx.knex.transaction(async (trx) => {
    await repo.lockUser(trx, req.subject.id);
    if (req.counted) {
      const reusable = await repo.findReusable(trx, req.subject.id, req.format, REUSE_MINUTES);
      if (reusable?.file_path && fs.existsSync(reusable.file_path)) return { action: 'reuse', job: reusable } as const;
      const hours = ctx.config.EXPORT_COOLDOWN_HOURS;
      if (hours > 0) {
        const last = await repo.latestCounted(trx, req.subject.id, hours);
        if (last) {
          const next = new Date(last.created_at.getTime() + hours * 3600_000);
          throw TooManyRequests('export.cooldown', { time: formatJst(next), hours, retryAfter: Math.ceil((next.getTime() - Date.now()) / 1000) });
        }
      }
    }
    const counts = await repo.countPersonalData(trx, req.subject.id);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const busy = (await repo.countRunningStreams(trx)) >= MAX_CONCURRENT_STREAMS;
    const background = total > ctx.config.EXPORT_BACKGROUND_ROWS || busy;
    const job = await repo.insertJob(trx, {
      id: crypto.randomUUID(),
      user_id: req.subject.id,
      requested_by: req.requestedBy,
      counted: req.counted,
      format: req.format,
      mode: background ? 'background' : 'stream',
      status: background ? 'queued' : 'running',
      lang: req.lang,
      notify_email: req.notifyEmail,
      owner: background ? null : owner.id,
    });
    if (req.audit) await req.audit(trx, job);
    if (!background) return { action: 'stream', job } as const;
    return { action: 'queued', job, reason: busy ? 'busy' : 'large' } as const;
  });
  if (decision.action === 'queued') await enqueueBuild(ctx, decision.job.id);
  return decision;
}

function setDownloadHeaders(res: Response, job: Pick<ExportJob, 'format'>, subject: ExportSubject, at: Date): void {
  res.setHeader('Content-Type', job.format === 'zip' ? 'application/zip' : 'application/json; charset=utf-8');
  res.setHeader('Content-Disposition', contentDisposition(exportFileName(subject.display_id, job.format, at)));
  res.setHeader('Cache-Control', 'no-store');
}

async function writeExport(ctx: AppContext, job: ExportJob, subject: ExportSubject, sink: NodeJS.WritableStream) {
  const settings = { ...(await exportSettings(ctx, job.lang)), scratchId: job.id };
  const w = sink as unknown as import('node:stream').Writable;
  return job.format === 'zip' ? writeZipExport(subject, settings, w) : writeJsonExport(subject, settings, w);
}

/**
 * Streams an export to the browser while keeping a copy on disk (for the
 * repeat-within-minutes case). The first bytes leave at once; a client that
 * goes away stops the export and the job is marked failed (not counted).
 */
export async function streamExport(ctx: AppContext, job: ExportJob, subject: ExportSubject, res: Response): Promise<void> {
  // Before any header leaves: a key that cannot be read answers 503 with a message, not a cut-off download.
  try {
    await loadSigningKey(ctx.config);
  } catch (err) {
    await repo.markFailed(ctx.knex, job.id, (err as Error).message);
    logger.error({ err }, 'export signing key unavailable');
    throw Unavailable('export.signing_key_unavailable');
  }
  const file = path.join(exportsDir(ctx), `${job.id}.${job.format}`);
  setDownloadHeaders(res, job, subject, new Date());
  res.flushHeaders();
  const hasher = new Hasher();
  hasher.on('error', () => undefined); // reported through the export's promise below
  let fileOut: FileSink | null = null;
  const onClose = () => {
    if (!res.writableFinished) hasher.destroy(new Error('client closed the connection'));
  };
  res.on('close', onClose);
  try {
    await ensurePrivateDir(exportsDir(ctx));
    fileOut = createFileSink(partFile(file));
    // The response ends only once the job is recorded as done, so an immediate repeat finds it.
    const [result] = await Promise.all([writeExport(ctx, job, subject, hasher), teeInto(hasher, [res, fileOut.stream], [res])]);
    await finishArchive(ctx, job, { sink: fileOut, file, hasher, rows: result.rows, displayId: subject.display_id, validSeconds: REUSE_MINUTES * 60 });
    res.end();
  } catch (err) {
    await fileOut?.discard();
    await repo.markFailed(ctx.knex, job.id, (err as Error).message).catch(() => undefined);
    if (isWriteFailure(err)) await reportWriteFailure(ctx.knex, 'export', fileOut?.path ?? exportsDir(ctx), err);
    logger.warn({ err, job: job.id }, 'export stream failed');
    if (!res.writableEnded) res.destroy();
  } finally {
    res.off('close', onClose);
  }
}

const partFile = (file: string) => `${file}.part`;

/**
 * The archive is written: closes its `.part` file, renames it to `file` (so a file under its final name is
 * always complete) and records the job done with its size, SHA-256 and row count, kept `validSeconds`.
 */
async function finishArchive(
  ctx: AppContext,
  job: ExportJob,
  a: { sink: FileSink; file: string; hasher: Hasher; rows: number; displayId: string; validSeconds: number },
): Promise<void> {
  const digest = await a.hasher.done;
  await closeSink(a.sink);
  await fs.promises.rename(a.sink.path, a.file);
  await reportWriteSuccess(ctx.knex, 'export');
  await repo.markDone(ctx.knex, job.id, {
    file_path: a.file,
    file_name: exportFileName(a.displayId, job.format).utf8,
    size_bytes: digest.size,
    sha256: digest.sha256,
    row_count: a.rows,
    expiresInSeconds: a.validSeconds,
  });
}

/** Serves a finished archive from disk (a repeat download, or the e-mailed link). */
export function sendStoredExport(res: Response, job: ExportJob, subject: ExportSubject): void {
  setDownloadHeaders(res, job, subject, job.finished_at ?? new Date());
  if (job.size_bytes) res.setHeader('Content-Length', job.size_bytes);
  fs.createReadStream(job.file_path!).on('error', () => res.destroy()).pipe(res);
}

/** Builds a queued export to DATA_DIR/exports and e-mails a link valid LINK_DAYS days. Safe to run twice. */
export async function runBackgroundExport(ctx: AppContext, jobId: string): Promise<void> {
  const job = await repo.findJob(ctx.knex, jobId);
  if (!job || !(await repo.markRunning(ctx.knex, jobId, (await workOwner(ctx)).id))) return;
  const [user] = await repo.findExportUser(ctx.knex, { id: Number(job.user_id) });
  if (!user) {
    await repo.markFailed(ctx.knex, jobId, 'user not found');
    return;
  }
  const file = path.join(exportsDir(ctx), `${job.id}.${job.format}`);
  let out: FileSink | null = null;
  try {
    await ensurePrivateDir(exportsDir(ctx));
    out = createFileSink(partFile(file));
    const hasher = new Hasher();
    const [result] = await Promise.all([writeExport(ctx, job, user, hasher), teeInto(hasher, [out.stream])]);
    await finishArchive(ctx, job, { sink: out, file, hasher, rows: result.rows, displayId: user.display_id, validSeconds: LINK_DAYS * 86400 });
  } catch (err) {
    await out?.discard();
    await repo.markFailed(ctx.knex, job.id, (err as Error).message);
    if (isWriteFailure(err)) await reportWriteFailure(ctx.knex, 'export', out?.path ?? exportsDir(ctx), err);
    throw err;
  }
  // Mailed by its own job: a mail outage is retried there and never fails the finished archive.
  if (isRealEmail(job.notify_email)) await enqueueJob(ctx, 'exportReadyMail', { exportJobId: job.id }, { singletonKey: job.id });
}

/** Queues a build; the job id makes a repeated request one job. */
function enqueueBuild(ctx: AppContext, exportJobId: string): Promise<string | null> {
  return enqueueJob(ctx, 'exportBuild', { exportJobId }, { singletonKey: exportJobId });
}

/** The queued "your archive is ready" e-mail with its signed link (made here, so it never waits in the queue). Safe to run twice. */
export async function mailExportReady(ctx: AppContext, exportJobId: string): Promise<void> {
  const job = await repo.findJob(ctx.knex, exportJobId);
  if (!job || job.status !== 'done' || !isRealEmail(job.notify_email)) return;
  const [user] = await repo.findExportUser(ctx.knex, { id: Number(job.user_id) });
  if (!user) return;
  await sendReadyEmail(ctx, job, user.display_id);
}

async function sendReadyEmail(ctx: AppContext, job: ExportJob, displayId: string): Promise<void> {
  const url = signedDownloadUrl(ctx, job);
  const expires = formatJst(job.expires_at!);
  await sendEmail(ctx, 'exportReady', { to: job.notify_email!, lang: job.lang, locals: { url, expires, displayId, size: Number(job.size_bytes), sha256: job.sha256 } });
}

const DOWNLOAD_LINKS = 'export-download-links-v1';
const sign = (ctx: AppContext, payload: string) => signPayload(ctx.config.SESSION_SECRET, DOWNLOAD_LINKS, payload);

/** A link that works without signing in, until the archive's expiry (HMAC over id and expiry). */
export function signedDownloadUrl(ctx: AppContext, job: Pick<ExportJob, 'id' | 'expires_at'>): string {
  const exp = Math.floor(job.expires_at!.getTime() / 1000);
  return `${ctx.config.PUBLIC_URL}/export/download/${job.id}?expires=${exp}&sig=${sign(ctx, `export-download:${job.id}:${exp}`)}`;
}

/** What a dead download link tells its reader to do: export again (signed in, or through an e-mailed link). */
export const DOWNLOAD_NEXT: LinkNext = { href: '/export', key: 'export.link_next_download' };

/** What a dead e-mailed sign-in link tells its reader to do: ask for a new one. */
export const LOGIN_LINK_NEXT: LinkNext = { href: '/export/link', key: 'export.link_request_again' };

/**
 * Checks a download link. An expired archive is deleted on the spot (the
 * sweeper would anyway) and the link answers 410 Gone.
 */
export async function openSignedDownload(ctx: AppContext, id: string, expires: string, sig: string): Promise<{ job: ExportJob; subject: ExportSubject }> {
  // a wrong signature or an unknown archive is as dead as an expired one: 410 and "export again" (src/http/links.ts)
  if (!signaturesMatch(sign(ctx, `export-download:${id}:${expires}`), sig)) throw new LinkGone(DOWNLOAD_NEXT);
  const job = await repo.findJob(ctx.knex, id);
  if (!job) throw new LinkGone(DOWNLOAD_NEXT);
  const expired = Number(expires) * 1000 <= Date.now() || !job.expires_at || job.expires_at.getTime() <= Date.now();
  if (expired || job.status !== 'done' || !job.file_path) {
    if (job.file_path) await fs.promises.rm(job.file_path, { force: true });
    if (job.status === 'done') await repo.markExpired(ctx.knex, job.id);
    throw new LinkGone(DOWNLOAD_NEXT, 'export.link_expired');
  }
  if (!fs.existsSync(job.file_path)) {
    await repo.markExpired(ctx.knex, job.id);
    throw new LinkGone(DOWNLOAD_NEXT, 'export.link_expired');
  }
  const [user] = await repo.findExportUser(ctx.knex, { id: Number(job.user_id) });
  return { job, subject: { id: Number(job.user_id), display_id: user?.display_id ?? 'user' } };
}

/** A background export that took its process down this many times is failed, not queued again. */
export const MAX_ATTEMPTS = 3;

/** Partial files of one export: the half-written archive and its scratch spool. */
async function removePartialFiles(ctx: AppContext, job: Pick<ExportJob, 'id' | 'format'>): Promise<void> {
  const dir = exportsDir(ctx);
  await fs.promises.rm(partFile(path.join(dir, `${job.id}.${job.format}`)), { force: true });
  const tmp = path.join(dir, 'tmp');
  const names = await fs.promises.readdir(tmp).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(`${job.id}-`)).map((n) => fs.promises.rm(path.join(tmp, n), { force: true })));
}

/**
 * Running exports whose process is gone (its owner lock is free: see
 * src/jobs/ownership.ts) are dealt with at once: their partial files are
 * removed, a background export is queued again (up to MAX_ATTEMPTS runs) and
 * will mail its link as usual, a streamed one (its browser is gone with the
 * process) is failed, which never counts toward the cooldown. Run at start,
 * periodically, and when the stream slot looks taken.
 */
export async function recoverOrphanedExports(ctx: AppContext): Promise<{ requeued: string[]; failed: string[] }> {
  const db = ctx.knex;
  const owner = await workOwner(ctx);
  const requeued: string[] = [];
  const failed: string[] = [];
  for (const job of await repo.listRunning(db)) {
    if (!(await owner.isGone(job.owner))) continue;
    await removePartialFiles(ctx, job);
    if (job.mode === 'background' && job.attempts < MAX_ATTEMPTS) {
      if (await repo.requeueOrphan(db, job.id, job.owner)) requeued.push(job.id);
    } else {
      const why = job.mode === 'stream' ? 'interrupted: the portal process stopped during the download' : `failed ${job.attempts} times: the portal process stopped each time`;
      if (await repo.failOrphan(db, job.id, job.owner, why)) failed.push(job.id);
    }
  }
  for (const id of requeued) await enqueueBuild(ctx, id);
  if (requeued.length || failed.length) logger.warn({ requeued, failed }, 'exports left by a stopped process recovered');
  return { requeued, failed };
}

/** Deletes archives whose time is up. Run periodically (src/jobs/registry.ts: export.sweep-expired). */
export async function sweepExpiredExports(ctx: AppContext): Promise<number> {
  await repo.failStaleStreams(ctx.knex);
  const expired = await repo.listExpiredFiles(ctx.knex);
  for (const job of expired) {
    if (job.file_path) await fs.promises.rm(job.file_path, { force: true });
    await repo.markExpired(ctx.knex, job.id);
  }
  await removeLeftovers(exportsDir(ctx));
  return expired.length;
}

/** Scratch and half-written files left by a process that died mid-export. */
async function removeLeftovers(dir: string): Promise<void> {
  const cutoff = Date.now() - 6 * 3600_000;
  for (const sub of [dir, path.join(dir, 'tmp')]) {
    const names = await fs.promises.readdir(sub).catch(() => [] as string[]);
    for (const name of names) {
      if (sub === dir && !name.endsWith('.part')) continue;
      const file = path.join(sub, name);
      const stat = await fs.promises.stat(file).catch(() => null);
      if (stat?.isFile() && stat.mtimeMs < cutoff) await fs.promises.rm(file, { force: true });
    }
  }
}

function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

/**
 * For users who forgot their password: queues a one-time link (15 minutes)
 * that signs in for export only. Says nothing about whether the address
 * exists; placeholder addresses (<id>@toybox.local) never receive mail.
 */
export async function requestExportLoginLink(ctx: AppContext, email: string, lang: Lang): Promise<void> {
  if (!isRealEmail(email)) return;
  const users = await repo.findExportUser(ctx.knex, { login: email });
  const user = users.length === 1 ? users[0] : undefined;
  if (!user || !user.is_active) return;
  await enqueueJob(ctx, 'exportLoginLink', { userId: user.id, lang });
}

/** The queued half: makes the token (stored hashed only) and mails the link. */
export async function mailExportLoginLink(ctx: AppContext, userId: number, lang: Lang): Promise<void> {
  const [user] = await repo.findExportUser(ctx.knex, { id: userId });
  if (!user || !isRealEmail(user.email)) return;
  const token = crypto.randomBytes(32).toString('base64url');
  await repo.insertLoginLink(ctx.knex, user.id, hashToken(token), LOGIN_LINK_MINUTES);
  const url = `${ctx.config.PUBLIC_URL}/export/link/${token}`;
  await sendEmail(ctx, 'exportLink', { to: user.email, lang, locals: { url, minutes: LOGIN_LINK_MINUTES, displayId: user.display_id } });
}

export async function loginLinkIsUsable(ctx: AppContext, token: string): Promise<boolean> {
  return (await repo.findUsableLoginLink(ctx.knex, hashToken(token))) !== undefined;
}

/** Uses up a login link; returns its user id, or null when it is unknown, used or expired. */
export async function consumeExportLoginLink(ctx: AppContext, token: string): Promise<number | null> {
  return repo.consumeLoginLink(ctx.knex, hashToken(token));
}

export async function findSubject(ctx: AppContext, query: string): Promise<repo.ExportUser | 'ambiguous' | null> {
  const q = query.trim();
  const users = /^\d+$/.test(q) ? await repo.findExportUser(ctx.knex, { id: Number(q) }) : await repo.findExportUser(ctx.knex, { login: q });
  if (users.length > 1) return 'ambiguous';
  return users[0] ?? null;
}
