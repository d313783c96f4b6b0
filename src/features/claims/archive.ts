import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { AppContext } from '../../app-context';
import { recordAudit } from '../../audit/service';
import { Conflict, HttpError, NotFound } from '../../http/errors';
import { logger } from '../../logger';
import { ensurePrivateDir } from '../../files/private';
import { verifyWithSiteKeys, type VerifyResult } from '../../archive/verify';
import { emailSha256, parseGlobalId, toyboxHostOf, type ArchiveSubject } from '../../archive/format';
import { extractEntries, readDataJson } from '../../archive/read';
import * as rows from '../../toybox/restored-rows';
import * as repo from './repo';
import * as archives from './archive-repo';
import * as restores from './restore-repo';
import { copyIn, holdsSameFile, mediaDir, mediaUrl, randomHex, removeCopied, sweepTemporaryCopies, type CopiedFile } from './media-copy';
import { plainText } from './text';
import { writeProfileValues } from './profile-writes';
import type { ArchiveUpload } from './archive-upload';
import type { Actor } from './service';

/**
 * A person's own export archive as a restore source (docs/claims.md,
 * "Your own archive"): signed with this site's key, for this site, every file
 * as signed, and about this same person = proof level 1 for the rows it
 * holds. Those rows are kept as candidates (portal.claim_archive_items);
 * restoring them writes into TOYBOX like any restore (old_id = the row's
 * global id, so a second restore adds nothing; original times; posts PRIVATE;
 * recorded in portal.restore_writes for undo).
 */

const OLD_ID_MAX = 100;

export const archiveDir = (ctx: AppContext, sub: 'uploads' | 'kept') => path.resolve(ctx.config.DATA_DIR, sub === 'uploads' ? 'claims-uploads' : 'claims-archives');

/** Problems that make an otherwise intact archive a case for staff rather than a refusal: no signature, or another key's. */
const STAFF_CODES = new Set(['unsigned', 'foreign_key']);

/** Why a verified-or-not archive is refused, as a 4xx naming what failed (the verifier's own words as detail). */
function refusal(result: VerifyResult): HttpError {
  // Name the tampering first: "unsigned" alone would go to staff, so it is not why this one is refused.
  const p = result.problems.find((x) => !STAFF_CODES.has(x.code)) ?? result.problems[0];
  const code = p?.code ?? 'bad_data';
  return new HttpError(422, `claims.archive.refused.${code}`, { detail: (p?.message ?? '').slice(0, 300), more: Math.max(0, result.problems.length - 1) });
}

/** Whether the archive's subject is this person: the same live account, or the same e-mail they confirmed through the e-mail proof. */
async function sameSubject(ctx: AppContext, who: Actor, s: ArchiveSubject): Promise<boolean> {
  const [me] = await repo.claimants(ctx.knex, [who.id]);
  if (!me) return false;
  if (s.user_id === me.id && (s.display_id.toLowerCase() === me.display_id.toLowerCase() || (s.email_sha256 !== null && s.email_sha256 === emailSha256(me.email)))) return true;
  if (!s.email_sha256) return false;
  return (await repo.confirmedEmails(ctx.knex, who.id)).some((e) => emailSha256(e) === s.email_sha256);
}

type Row = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const fitsOldId = (gid: string) => gid.length <= OLD_ID_MAX;

/** The restorable items of a verified archive: posts whose file is in it, cards, profile pictures and texts. */
async function collectItems(ctx: AppContext, file: string): Promise<{ items: archives.ArchiveItem[]; rows: number; files: number }> {
  let rowCount = 0;
  let fileCount = 0;
  const posts: Row[] = [];
  const cards: Row[] = [];
  let profile: Row | null = null;
  let settings: Row | null = null;
  const media = new Map<string, { path: string; sha256: string }>();
  await readDataJson(file, toyboxHostOf(ctx.config.TOYBOX_URL), {
    row(kind, row) {
      rowCount++;
      if (kind === 'posts') posts.push(row);
      else if (kind === 'cards') cards.push(row);
      else if (kind === 'profile') profile = row;
      else if (kind === 'settings') settings = row;
    },
    media(e) {
      if (e.status === 'included') fileCount++;
      if (e.status === 'included' && typeof e.source === 'string' && typeof e.path === 'string' && typeof e.sha256 === 'string') media.set(e.source, { path: e.path, sha256: e.sha256 });
    },
  });
  const items: archives.ArchiveItem[] = [];
  const fileOf = (v: unknown) => (typeof v === 'string' && v ? media.get(v) : undefined);
  posts.forEach((p, i) => {
    const gid = str(p.global_id);
    if (!fitsOldId(gid) || p.deleted_at) return;
    const video = fileOf(p.video_url);
    const image = fileOf(p.image_url) ?? fileOf(p.image);
    const main = video ?? image;
    if (!main) return; // games and posts whose file is not in the archive
    items.push({
      global_id: gid,
      kind: 'post',
      position: i,
      item: {
        title: plainText(p.title, 20),
        caption: plainText(p.caption, 140),
        hashtags: Array.isArray(p.hashtags) ? (p.hashtags as unknown[]).map((t) => plainText(t, 100)).filter(Boolean).slice(0, 50) : [],
        spell: plainText(p.spell, 8000),
        ai_tool: plainText(p.ai_tool, 64),
        created_at: str(p.created_at),
        video: Boolean(video),
        path: main.path,
        sha256: main.sha256,
      },
    });
  });
  cards.forEach((c, i) => {
    const gid = str(c.global_id);
    if (!fitsOldId(gid) || !str(c.card_code)) return;
    items.push({ global_id: gid, kind: 'card', position: i, item: { code: str(c.card_code), name: plainText(c.card_name, 100), rarity: plainText(c.card_rarity, 20), obtained_at: str(c.obtained_at) } });
  });
  const pr = profile as Row | null;
  const st = settings as Row | null;
  const avatar = pr ? fileOf(pr.avatar_url) : undefined;
  if (pr && avatar) items.push({ global_id: str(pr.global_id), kind: 'avatar', position: 0, item: { path: avatar.path, sha256: avatar.sha256 } });
  const header = st ? fileOf(st.header_url) : undefined;
  if (st && header) items.push({ global_id: str(st.global_id), kind: 'header', position: 0, item: { path: header.path, sha256: header.sha256 } });
  if (st && plainText(st.display_name, 50)) items.push({ global_id: str(st.global_id), kind: 'display_name', position: 0, item: { value: plainText(st.display_name, 50) } });
  if (st && plainText(st.bio, 2000)) items.push({ global_id: str(st.global_id), kind: 'bio', position: 0, item: { value: plainText(st.bio, 2000) } });
  return { items, rows: rowCount, files: fileCount };
}

export interface ArchiveProofResult {
  archive_id: number;
  already: boolean;
  /** verified: restorable now; review: sent to staff; approved/rejected: an earlier upload of the same bytes, decided. */
  status: archives.ArchiveStatus;
  posts: number;
  cards: number;
}


/**
 * What staff must look at, or null when the archive is refused outright: it
 * is well-formed and every file and row matches its manifest, but the
 * manifest is unsigned or signed with a key that is not this site's. Any
 * other problem (edited after signing, missing or changed files, other site,
 * unsafe ZIP) is tampering or damage and is refused.
 */
function staffReasons(result: VerifyResult): archives.ArchiveReview['reasons'] | null {
  if (result.valid || !result.subject || !result.problems.length) return null;
  if (!result.problems.every((p) => STAFF_CODES.has(p.code))) return null;
  return result.problems.some((p) => p.code === 'foreign_key') ? [{ code: 'foreign_key', key_id: result.keyId ?? '' }] : [{ code: 'unsigned' }];
}

/**
 * Checks an uploaded archive. This person's own archive from this site is
 * kept (0600 under DATA_DIR/claims-archives) with its items, restorable now.
 * An intact archive that is unsigned, signed by a foreign key, or about
 * another account (the person may have two) is kept the same way with
 * status `review` for staff; nothing in it is restorable until staff approve.
 * Anything else (edited, damaged, unsafe) is refused with what failed (422)
 * and nothing is written. The temporary upload is removed.
 */
export async function proveByArchive(ctx: AppContext, who: Actor, upload: ArchiveUpload): Promise<ArchiveProofResult> {
  let kept: string | null = null;
  try {
    const result = await verifyWithSiteKeys(ctx.config, upload.file);
    let reasons: archives.ArchiveReview['reasons'] | null = null;
    if (!result.valid || !result.subject) {
      reasons = staffReasons(result);
      if (!reasons) {
        logger.info({ user: who.id, problems: result.problems.map((p) => p.code) }, 'claims: archive refused');
        throw refusal(result);
      }
    }
    const subject = result.subject!;
    if (!(await sameSubject(ctx, who, subject))) {
      const [other] = await repo.claimants(ctx.knex, [subject.user_id]);
      // Only an archive this site signed can say which of its accounts it is about; an unsigned one's subject is its own claim.
      if (result.valid) reasons = [{ code: 'other_account', user_id: subject.user_id, display_id: other?.display_id ?? subject.display_id }];
      else reasons!.push({ code: 'other_account', user_id: subject.user_id, display_id: other?.display_id ?? subject.display_id });
    }
    const existing = await archives.archiveBySha(ctx.knex, who.id, upload.sha256);
    if (existing) return { archive_id: existing.id, already: true, status: existing.status, ...(await counts(ctx, existing.id)) };
    const collected = await collectItems(ctx, upload.file);
    const items = collected.items;
    const review: archives.ArchiveReview | null = reasons ? { reasons, rows: collected.rows, files: collected.files } : null;
    const dir = archiveDir(ctx, 'kept');
    await ensurePrivateDir(dir);
    kept = path.join(dir, `${who.id}-${upload.sha256}.zip`);
    await fs.promises.rename(upload.file, kept);
    const keptPath = kept;
    const id = await ctx.knex.transaction(async (trx) => {
      const archiveId = await archives.insertArchive(trx, {
        user_id: who.id,
        sha256: upload.sha256,
        size: upload.size,
        upload_name: upload.name,
        stored_path: keptPath,
        key_id: result.keyId ?? '',
        exported_at: result.exportedAt ?? '',
        subject,
        proof: review ? 'none yet: sent to staff for review' : 'level 1: signed by this site, about this account',
        status: review ? 'review' : 'verified',
        review,
      });
      await archives.insertItems(trx, archiveId, items);
      const detail = { archive: archiveId, key_id: result.keyId, exported_at: result.exportedAt, subject: subject.global_id, items: items.length };
      if (review) await recordAudit(trx, who.actor, 'claims.archive_sent_to_staff', `user:${who.id}`, { ...detail, reasons: review.reasons });
      else await recordAudit(trx, who.actor, 'claims.archive_verified', `user:${who.id}`, detail);
      return archiveId;
    });
    kept = null;
    if (review) logger.info({ user: who.id, archive: id, reasons: review.reasons.map((r) => r.code) }, 'claims: archive sent to staff');
    return { archive_id: id, already: false, status: review ? 'review' : 'verified', posts: items.filter((i) => i.kind === 'post').length, cards: items.filter((i) => i.kind === 'card').length };
  } finally {
    await fs.promises.rm(upload.file, { force: true }).catch(() => undefined);
    if (kept) await fs.promises.rm(kept, { force: true }).catch(() => undefined);
  }
}

export interface ArchiveReviewView {
  archive: archives.ArchiveRow;
  claimant: { id: number; display_id: string; email: string | null } | null;
  posts: number;
  cards: number;
}

/** The archives waiting for staff, with who sent them and what they hold. */
export async function archiveReviewQueue(ctx: AppContext): Promise<ArchiveReviewView[]> {
  const waiting = await archives.archivesByStatus(ctx.knex, 'review');
  const people = new Map((await repo.claimants(ctx.knex, [...new Set(waiting.map((a) => a.user_id))])).map((u) => [u.id, u]));
  const n = await archives.countItems(ctx.knex, waiting.map((a) => a.id));
  return waiting.map((a) => ({ archive: a, claimant: people.get(a.user_id) ?? null, ...(n.get(a.id) ?? { posts: 0, cards: 0 }) }));
}

/** The person's archives that are waiting for staff or were rejected (shown on /recover). */
export async function myArchiveReviews(ctx: AppContext, userId: number): Promise<archives.ArchiveRow[]> {
  return (await archives.archivesOfUser(ctx.knex, userId)).filter((a) => a.status === 'review' || a.status === 'rejected');
}

/**
 * Staff decide an archive under review. Approve: its items become restorable
 * by that person exactly like a verified archive, the proof recorded as
 * staff-approved. Reject: its items and the kept file are removed; nothing is
 * restorable. Audited either way; a second decision is a 409.
 */
export async function decideArchive(ctx: AppContext, staff: string, id: number, decision: 'approve' | 'reject', reason: string): Promise<void> {
  let remove: string | null = null;
  await ctx.knex.transaction(async (trx) => {
    const a = await archives.lockArchive(trx, id);
    if (!a) throw NotFound('claims.archive.not_found');
    if (a.status !== 'review') throw Conflict('claims.archive_review.already_decided', { id });
    if (decision === 'approve') {
      await archives.decideArchive(trx, id, { status: 'approved', proof: `staff-approved by ${staff}: ${reason}`, decided_by: staff, reason });
    } else {
      await archives.deleteItems(trx, id);
      await archives.decideArchive(trx, id, { status: 'rejected', proof: 'rejected by staff', decided_by: staff, reason, stored_path: '' });
      remove = a.stored_path;
    }
    await recordAudit(trx, staff, decision === 'approve' ? 'claims.archive_approved' : 'claims.archive_rejected', `user:${a.user_id}`, { archive: id, reason, reasons: a.review?.reasons ?? [] });
  });
  if (remove) await fs.promises.rm(remove, { force: true }).catch((err: Error) => logger.warn({ archive: id, err: err.message }, 'claims: could not remove a rejected archive'));
}

async function counts(ctx: AppContext, archiveId: number): Promise<{ posts: number; cards: number }> {
  const items = await archives.itemsOf(ctx.knex, archiveId);
  return { posts: items.filter((i) => i.kind === 'post').length, cards: items.filter((i) => i.kind === 'card').length };
}

export type ItemState = 'open' | 'restored' | 'live';

export interface ArchiveCandidates {
  archive: archives.ArchiveRow;
  posts: Array<archives.ArchiveItem & { state: ItemState }>;
  cards: Array<archives.ArchiveItem & { state: ItemState; available: boolean }>;
  avatar: archives.ArchiveItem | null;
  header: archives.ArchiveItem | null;
  display_name: string | null;
  bio: string | null;
}

type Db = Parameters<typeof rows.existingOldIds>[0];

/**
 * Which items are already in TOYBOX: restored before (their global id in
 * old_id), the same live row the person still has (this site's era-new id,
 * owned by them), or a row a salvage restore brought back (era restored: its
 * old_id is the decoded id).
 */
async function states(trx: Db, host: string, userId: number, table: 'submissions' | 'user_cards', items: archives.ArchiveItem[]): Promise<Map<string, ItemState>> {
  const gids = items.map((i) => i.global_id);
  const parsed = new Map(gids.map((g) => [g, parseGlobalId(g)]));
  const restoredIds = [...parsed.values()].filter((p) => p?.era === 'restored' && p.table === table).map((p) => p!.id);
  const liveIds = [...parsed.values()].filter((p) => p?.era === 'new' && p.host === host && p.table === table && /^\d{1,15}$/.test(p.id)).map((p) => Number(p!.id));
  const done = await rows.existingOldIds(trx, table, [...gids, ...restoredIds]);
  const live = await rows.ownedLiveIds(trx, table, liveIds, userId);
  const out = new Map<string, ItemState>();
  for (const g of gids) {
    const p = parsed.get(g);
    const isLive = (p?.era === 'new' && p.host === host && p.table === table && live.has(Number(p.id))) || (p?.era === 'restored' && done.has(p.id));
    out.set(g, done.has(g) ? 'restored' : isLive ? 'live' : 'open');
  }
  return out;
}

async function candidatesOf(ctx: AppContext, trx: Db, userId: number, archive: archives.ArchiveRow): Promise<ArchiveCandidates> {
  const items = await archives.itemsOf(trx, archive.id);
  const host = toyboxHostOf(ctx.config.TOYBOX_URL);
  const posts = items.filter((i) => i.kind === 'post');
  const cards = items.filter((i) => i.kind === 'card');
  const postStates = await states(trx, host, userId, 'submissions', posts);
  const cardStates = await states(trx, host, userId, 'user_cards', cards);
  const codes = await rows.cardIdsByCode(trx, cards.map((c) => String(c.item.code)));
  const one = (k: archives.ArchiveItemKind) => items.find((i) => i.kind === k) ?? null;
  return {
    archive,
    posts: posts.map((p) => ({ ...p, state: postStates.get(p.global_id)! })),
    cards: cards.map((c) => ({ ...c, state: cardStates.get(c.global_id)!, available: codes.has(String(c.item.code)) })),
    avatar: one('avatar'),
    header: one('header'),
    display_name: (one('display_name')?.item.value as string | undefined) ?? null,
    bio: (one('bio')?.item.value as string | undefined) ?? null,
  };
}

/** The person's verified archives with what each can still restore. */
export async function archiveCandidates(ctx: AppContext, userId: number): Promise<ArchiveCandidates[]> {
  const out: ArchiveCandidates[] = [];
  for (const a of await archives.archivesOfUser(ctx.knex, userId)) if (archives.RESTORABLE.includes(a.status)) out.push(await ctx.knex.transaction((trx) => candidatesOf(ctx, trx, userId, a)));
  return out;
}

export interface ArchiveSelection {
  posts: 'all' | string[];
  cards: boolean;
  avatar: boolean;
  header: boolean;
  display_name: boolean;
  bio: boolean;
}

export interface ArchiveRestoreResult {
  restore_id: number | null;
  posts: number;
  cards: number;
  avatar: boolean;
  header: boolean;
  profile: number;
  undo_until: Date | null;
}

/**
 * Restores the chosen items of one of the person's verified archives, in one
 * transaction under the same per-account lock as every restore: files are
 * taken out of the archive (hash checked again) and copied into TOYBOX's
 * uploads first, then rows, each write recorded for undo.
 */
export async function restoreFromArchive(ctx: AppContext, who: Actor, archiveId: number, sel: ArchiveSelection): Promise<ArchiveRestoreResult> {
  const archive = await archives.getArchive(ctx.knex, archiveId);
  if (!archive || archive.user_id !== who.id || !archives.RESTORABLE.includes(archive.status)) throw NotFound('claims.archive.not_found');
  const nothing: ArchiveRestoreResult = { restore_id: null, posts: 0, cards: 0, avatar: false, header: false, profile: 0, undo_until: null };
  const before = await ctx.knex.transaction((trx) => candidatesOf(ctx, trx, who.id, archive));
  const chosen = new Set(sel.posts === 'all' ? [] : sel.posts);
  const wantPosts = before.posts.filter((p) => p.state === 'open' && (sel.posts === 'all' || chosen.has(p.global_id)));
  const wantAvatar = sel.avatar ? before.avatar : null;
  const wantHeader = sel.header ? before.header : null;
  const wantCards = sel.cards ? before.cards.filter((c) => c.state === 'open' && c.available) : [];
  if (!wantPosts.length && !wantCards.length && !wantAvatar && !wantHeader && !sel.display_name && !sel.bio) return nothing;

  const needed = new Map<string, string>();
  for (const i of [...wantPosts, ...(wantAvatar ? [wantAvatar] : []), ...(wantHeader ? [wantHeader] : [])]) needed.set(String(i.item.path), String(i.item.sha256));
  const root = needed.size ? mediaDir(ctx) : '';
  const scratch = path.join(archiveDir(ctx, 'uploads'), `extract-${crypto.randomBytes(8).toString('hex')}`);
  await ensurePrivateDir(scratch);
  const copied: CopiedFile[] = [];
  const undoUntil = new Date(Date.now() + ctx.config.CLAIMS_UNDO_HOURS * 3600_000);
  try {
    const extracted = await extractEntries(archive.stored_path, needed, scratch);
    const src = (i: archives.ArchiveItem) => ({ abs_path: extracted.get(String(i.item.path))!, sha256: String(i.item.sha256) });
    const result = await ctx.knex.transaction(async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`claims:restore:${who.id}`]);
      const cand = await candidatesOf(ctx, trx, who.id, archive); // again, under the lock: a double click adds nothing
      const open = new Set(cand.posts.filter((p) => p.state === 'open').map((p) => p.global_id));
      const posts = wantPosts.filter((p) => open.has(p.global_id));
      const openCards = new Set(cand.cards.filter((c) => c.state === 'open' && c.available).map((c) => c.global_id));
      const cards = wantCards.filter((c) => openCards.has(c.global_id));
      if (root) await sweepTemporaryCopies(root, who.id);
      const dirs = new Set<string>();
      const urls = new Map<string, string>();
      for (const p of posts) {
        const ext = path.posix.extname(String(p.item.path)).toLowerCase().replace(/[^.a-z0-9]/g, '');
        const ts = Math.floor(new Date(String(p.item.created_at)).getTime() / 1000) || Math.floor(Date.now() / 1000);
        const main = await copyIn(root, src(p), (b) => `submissions/${who.id}_${ts + b}${ext}`, copied, dirs);
        urls.set(p.global_id, mediaUrl(ctx, main.rel));
      }
      const picture = async (i: archives.ArchiveItem | null, kind: 'avatar' | 'header') => {
        if (!i) return null;
        const ext = path.posix.extname(String(i.item.path)).toLowerCase().replace(/[^.a-z0-9]/g, '');
        const main = await copyIn(root, src(i), () => `profiles/${kind}_${who.id}_${randomHex()}${ext}`, copied, dirs);
        return mediaUrl(ctx, main.rel);
      };
      const user = await rows.lockUser(trx, who.id);
      if (!user) throw NotFound('claims.restore.no_account');
      const writes: restores.NewWrite[] = [];
      const w = (x: Partial<restores.NewWrite> & { op: restores.NewWrite['op'] }): restores.NewWrite => ({ table_name: null, row_id: null, column_name: null, before: null, after: null, file_path: null, sha256: null, ...x });
      const inserted = await rows.insertSubmissions(
        trx,
        posts.map((p) => ({
          author_id: who.id,
          old_id: p.global_id,
          title: String(p.item.title ?? ''),
          caption: String(p.item.caption ?? ''),
          hashtags: (p.item.hashtags as string[]) ?? [],
          spell: String(p.item.spell ?? ''),
          ai_tool: String(p.item.ai_tool ?? ''),
          image_url: p.item.video ? null : urls.get(p.global_id)!,
          video_url: p.item.video ? urls.get(p.global_id)! : null,
          game_url: null,
          created_at: new Date(String(p.item.created_at)),
        })),
      );
      inserted.forEach((r) => writes.push(w({ op: 'insert', table_name: 'submissions', row_id: r.id })));
      const codes = await rows.cardIdsByCode(trx, cards.map((c) => String(c.item.code)));
      const cardIds = await rows.insertUserCards(trx, cards.map((c) => ({ user_id: who.id, card_id: codes.get(String(c.item.code))!, old_id: c.global_id, obtained_at: new Date(String(c.item.obtained_at)) })));
      cardIds.forEach((id) => writes.push(w({ op: 'insert', table_name: 'user_cards', row_id: id })));
      let meta = await rows.userMetaOf(trx, who.id);
      if (!meta && (wantHeader || sel.display_name || sel.bio)) {
        const id = await rows.insertUserMeta(trx, who.id, who.display_id);
        writes.push(w({ op: 'insert', table_name: 'user_meta', row_id: id }));
        meta = await rows.userMetaOf(trx, who.id);
      }
      const sameBytes = (url: string | null, sha: string) => holdsSameFile(ctx, root, url, sha);
      const avatarUrl = wantAvatar && !(await sameBytes(user.avatar_url, String(wantAvatar.item.sha256))) ? await picture(wantAvatar, 'avatar') : null;
      const headerUrl = wantHeader && meta && !(await sameBytes(meta.header_url, String(wantHeader.item.sha256))) ? await picture(wantHeader, 'header') : null;
      const profile = await writeProfileValues(trx, (x) => writes.push(w(x)), user, meta, {
        avatarUrl,
        headerUrl,
        displayName: sel.display_name ? cand.display_name : null,
        bio: sel.bio ? cand.bio : null,
      });
      for (const c of copied) writes.unshift(w({ op: 'file', file_path: c.rel, sha256: c.sha256 }));
      if (!writes.length) return { ...nothing };
      const summary = { posts: inserted.length, cards: cardIds.length, avatar: avatarUrl ? 1 : 0, header: headerUrl ? 1 : 0, profile };
      const restoreId = await restores.insertRestore(trx, { user_id: who.id, claim_id: null, old_user_id: null, archive_id: archive.id, created_by: who.actor, undo_until: undoUntil });
      await restores.recordWrites(trx, restoreId, writes);
      await restores.setSummary(trx, restoreId, summary);
      await recordAudit(trx, who.actor, 'claims.restore', `user:${who.id}`, { restore: restoreId, archive: archive.id, ...summary });
      return { restore_id: restoreId, posts: inserted.length, cards: cardIds.length, avatar: Boolean(avatarUrl), header: Boolean(headerUrl), profile, undo_until: undoUntil };
    });
    if (result.restore_id === null) await removeCopied(copied);
    return result;
  } catch (err) {
    await removeCopied(copied);
    throw err;
  } finally {
    await fs.promises.rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  }
}

