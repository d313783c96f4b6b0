import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { AppContext } from '../../app-context';
import { recordAudit } from '../../audit/service';
import { Conflict, HttpError, NotFound } from '../../http/errors';
import { logger } from '../../logger';
import * as catalogue from '../../salvage-catalogue';
import * as rows from '../../toybox/restored-rows';
import * as restores from './restore-repo';
import * as claimsRepo from './repo';
import { approvedClaimOf, type Actor } from './service';
import { plainText } from './text';
import { mapLimit } from './map-limit';

export interface PostCandidate {
  key: string;
  file_id: number;
  kind: 'post_image' | 'post_video';
  rel_path: string;
  title: string;
  caption: string;
  created_at: Date | null;
  from_database: boolean;
  preview_id: number | null;
  restored: boolean;
}

export interface ProfileFileCandidate {
  file_id: number;
  kind: 'avatar' | 'header';
  rel_path: string;
}

export interface CardCandidate {
  key: string;
  code: string;
  name: string;
  rarity: string;
  obtained_at: Date;
  available: boolean;
  restored: boolean;
}

export interface Candidates {
  claim_id: number;
  old_user_id: number;
  posts: PostCandidate[];
  avatars: ProfileFileCandidate[];
  headers: ProfileFileCandidate[];
  cards: CardCandidate[];
  old_display_name: string | null;
  old_bio: string | null;
}

const postKey = (f: catalogue.CatalogueFile) => `old-media:${f.stem ?? f.rel_path}`.slice(0, 100);
const cardKey = (oldId: number) => `old-db:user_cards:${oldId}`;

/** Old database rows by the stored file name they point at (image, image_url or video_url). */
function rowsByFileName(posts: catalogue.OldPostRow[]): Map<string, catalogue.OldPostRow> {
  const out = new Map<string, catalogue.OldPostRow>();
  for (const p of posts) {
    for (const v of [p.image, p.image_url, p.video_url]) {
      if (typeof v === 'string' && v) {
        const name = path.posix.basename(v.split('?')[0]!);
        if (!out.has(name)) out.set(name, p);
      }
    }
  }
  return out;
}

/** Thumbnails and posters by the original they were made from. */
function derivedByOriginal(files: Iterable<catalogue.CatalogueFile>): Map<string, catalogue.CatalogueFile[]> {
  const out = new Map<string, catalogue.CatalogueFile[]>();
  for (const f of files) {
    if (!f.original_path) continue;
    const list = out.get(f.original_path) ?? [];
    list.push(f);
    out.set(f.original_path, list);
  }
  return out;
}

/**
 * What an approved claim can bring back: the old id's posts (one per distinct
 * original file), avatars and headers, cards an old database holds, and old
 * profile texts, each marked when it is already restored.
 */
export async function candidates(ctx: AppContext, userId: number, claimId: number): Promise<Candidates> {
  return (await loadCandidates(ctx, userId, claimId)).cand;
}

async function loadCandidates(ctx: AppContext, userId: number, claimId: number): Promise<{ cand: Candidates; files: catalogue.CatalogueFile[] }> {
  const claim = await approvedClaimOf(ctx.knex, userId, claimId);
  const files = await catalogue.clusterFiles(ctx.knex, claim.old_user_id);
  const oldRows = rowsByFileName(await catalogue.oldPosts(ctx.knex, claim.old_user_id));
  const derived = derivedByOriginal(files);
  const seen = new Set<string>();
  const posts: PostCandidate[] = [];
  for (const f of files) {
    if ((f.kind !== 'post_image' && f.kind !== 'post_video') || seen.has(f.sha256)) continue;
    seen.add(f.sha256);
    const row = oldRows.get(path.posix.basename(f.rel_path));
    const preview = derived.get(f.rel_path)?.[0] ?? (f.kind === 'post_image' ? f : null);
    posts.push({
      key: postKey(f),
      file_id: f.id,
      kind: f.kind,
      rel_path: f.rel_path,
      title: plainText(row?.title ?? '', 20),
      caption: plainText(row?.caption ?? '', 140),
      created_at: row?.created_at ?? f.uploaded_at,
      from_database: Boolean(row),
      preview_id: preview?.id ?? null,
      restored: false,
    });
  }
  const oldCards = await catalogue.oldCards(ctx.knex, claim.old_user_id);
  const account = await catalogue.oldAccount(ctx.knex, claim.old_user_id);
  const { postDone, cardDone, codes } = await ctx.knex.transaction(async (trx) => ({
    postDone: await rows.existingOldIds(trx, 'submissions', posts.map((p) => p.key)),
    cardDone: await rows.existingOldIds(trx, 'user_cards', oldCards.map((c) => cardKey(c.old_id))),
    codes: await rows.cardIdsByCode(trx, oldCards.map((c) => c.code)),
  }));
  for (const p of posts) p.restored = postDone.has(p.key);
  const profile = (kind: 'avatar' | 'header') => files.filter((f) => f.kind === kind).map((f) => ({ file_id: f.id, kind, rel_path: f.rel_path }));
  const cand: Candidates = {
    claim_id: claim.id,
    old_user_id: claim.old_user_id,
    posts,
    avatars: profile('avatar'),
    headers: profile('header'),
    cards: oldCards.map((c) => ({ key: cardKey(c.old_id), code: c.code, name: plainText(c.name, 100), rarity: c.rarity, obtained_at: c.obtained_at, available: codes.has(c.code), restored: cardDone.has(cardKey(c.old_id)) })),
    old_display_name: account?.display_name ? plainText(account.display_name, 50) : null,
    old_bio: account?.bio ? plainText(account.bio, 2000) : null,
  };
  return { cand, files };
}

export interface Selection {
  posts: 'all' | string[];
  cards: 'all' | string[];
  avatar: number | null;
  header: number | null;
  display_name: boolean;
  bio: boolean;
}

export interface RestoreResult {
  restore_id: number | null;
  posts: number;
  cards: number;
  reactions: number;
  follows: number;
  /** Reactions and follows whose other end is not restored yet: completed by the other side's restore. */
  pending_edges: number;
  avatar: boolean;
  header: boolean;
  profile: number;
  undo_until: Date | null;
}

interface CopiedFile {
  rel: string;
  abs: string;
  sha256: string;
}

function mediaDir(ctx: AppContext): string {
  const dir = ctx.config.TOYBOX_MEDIA_DIR;
  if (!dir) throw Conflict('claims.restore.no_media_dir');
  return path.resolve(dir);
}

function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    fs.createReadStream(file).on('error', reject).on('data', (c) => h.update(c)).on('end', () => resolve(h.digest('hex')));
  });
}

/**
 * Copies one salvaged file into TOYBOX's live uploads directory under a name
 * TOYBOX's own code would give it for this person, never overwriting: a name
 * already taken by other bytes moves to the next free second / suffix. Returns
 * null when the very same bytes are already there (nothing was added).
 */
async function copyIn(root: string, src: catalogue.CatalogueFile, relName: (bump: number) => string, copied: CopiedFile[], dirs: Set<string>): Promise<{ rel: string; added: boolean }> {
  for (let bump = 0; bump < 50; bump++) {
    const rel = relName(bump);
    const abs = path.resolve(root, rel);
    if (!abs.startsWith(root + path.sep)) throw new HttpError(400, 'claims.restore.bad_path');
    if (!dirs.has(path.dirname(abs))) {
      await fs.promises.mkdir(path.dirname(abs), { recursive: true });
      dirs.add(path.dirname(abs));
    }
    try {
      await fs.promises.copyFile(src.abs_path, abs, fs.constants.COPYFILE_EXCL);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if ((await sha256Of(abs)) === src.sha256) return { rel, added: false };
      continue;
    }
    copied.push({ rel, abs, sha256: src.sha256 });
    return { rel, added: true };
  }
  throw Conflict('claims.restore.no_free_name');
}

async function removeCopied(files: Array<{ abs: string }>): Promise<void> {
  for (const f of files) {
    await fs.promises.unlink(f.abs).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') logger.warn({ err: err.message, file: f.abs }, 'claims: could not remove a copied file');
    });
  }
}

/** True when `url` is one of TOYBOX's uploads whose file holds exactly these bytes. */
async function holdsSameFile(ctx: AppContext, root: string, url: string | null, sha256: string): Promise<boolean> {
  const prefix = mediaUrl(ctx, '');
  if (!url || !url.startsWith(prefix)) return false;
  const abs = path.resolve(root, url.slice(prefix.length));
  if (!abs.startsWith(root + path.sep)) return false;
  return (await sha256Of(abs).catch(() => null)) === sha256;
}

const mediaUrl = (ctx: AppContext, rel: string) => `${ctx.config.TOYBOX_URL.replace(/\/$/, '')}/uploads/${rel}`;
const randomHex = () => crypto.randomBytes(4).toString('hex');

/**
 * Restores what the person chose, in one transaction: files are copied first
 * (never moved), then parents before children, each write recorded so undo
 * can remove exactly it. Items already restored (same provenance) are skipped,
 * so restoring twice adds nothing. Restored posts are PRIVATE.
 */
export async function restore(ctx: AppContext, who: Actor, claimId: number, sel: Selection): Promise<RestoreResult> {
  const loaded = await loadCandidates(ctx, who.id, claimId);
  const cand = loaded.cand;
  const chosen = new Set(sel.posts === 'all' ? [] : sel.posts);
  const posts = cand.posts.filter((p) => !p.restored && (sel.posts === 'all' || chosen.has(p.key)));
  const chosenCards = new Set(sel.cards === 'all' ? [] : sel.cards);
  const cards = cand.cards.filter((c) => !c.restored && c.available && (sel.cards === 'all' || chosenCards.has(c.key)));
  const avatar = sel.avatar !== null ? cand.avatars.find((a) => a.file_id === sel.avatar) : undefined;
  const header = sel.header !== null ? cand.headers.find((a) => a.file_id === sel.header) : undefined;
  if ((sel.avatar !== null && !avatar) || (sel.header !== null && !header)) throw NotFound('claims.restore.no_such_item');
  const nothing = { restore_id: null, posts: 0, cards: 0, reactions: 0, follows: 0, pending_edges: 0, avatar: false, header: false, profile: 0, undo_until: null };
  if (!posts.length && !cards.length && !avatar && !header && !sel.display_name && !sel.bio) return nothing;

  const copied: CopiedFile[] = [];
  const files = new Map(loaded.files.map((f) => [f.id, f]));
  const derived = derivedByOriginal(files.values());
  const oldEdges = await catalogue.oldEdgesTouching(ctx.knex, cand.old_user_id);
  const undoUntil = new Date(Date.now() + ctx.config.CLAIMS_UNDO_HOURS * 3600_000);
  try {
    const result = await ctx.knex.transaction(async (trx) => {
      // One restore of an account at a time, from here to COMMIT: a second click waits, then finds
      // everything restored and copies nothing (so it can never remove a file the first one uses).
      // An advisory lock rather than the users row, which TOYBOX itself updates (last_login).
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`claims:restore:${who.id}`]);
      await approvedClaimOf(trx, who.id, claimId); // still approved, now inside the transaction
      const donePosts = await rows.existingOldIds(trx, 'submissions', posts.map((p) => p.key));
      const newPosts = posts.filter((p) => !donePosts.has(p.key));
      const root = newPosts.length || avatar || header ? mediaDir(ctx) : '';
      // Files before rows: a crash leaves at most unreferenced copies, never rows without files.
      const postFiles = new Map<string, { url: string }>();
      const dirs = new Set<string>();
      // A few copies in flight: the disk, not one file at a time, sets the pace.
      await mapLimit(newPosts, 8, async (p) => {
        const f = files.get(p.file_id)!;
        const ts = Math.floor((f.uploaded_at?.getTime() ?? Date.now()) / 1000);
        const ext = path.posix.extname(f.rel_path).toLowerCase();
        const main = await copyIn(root, f, (b) => `submissions/${who.id}_${ts + b}${ext}`, copied, dirs);
        const stem = main.rel.slice(0, -ext.length);
        for (const d of derived.get(f.rel_path) ?? []) {
          await copyIn(root, d, (b) => `${stem}${d.kind === 'poster' ? '_poster' : '_thumb'}${b ? `_${b}` : ''}.jpg`, copied, dirs);
        }
        postFiles.set(p.key, { url: mediaUrl(ctx, main.rel) });
      });
      const current = await rows.currentPictures(trx, who.id);
      const profileUrl = async (c: ProfileFileCandidate | undefined) => {
        if (!c) return null;
        const f = files.get(c.file_id)!;
        // Already the picture in use (an earlier restore): nothing to add.
        if (await holdsSameFile(ctx, root, c.kind === 'avatar' ? current.avatar_url : current.header_url, f.sha256)) return null;
        const ext = path.posix.extname(f.rel_path).toLowerCase();
        const hex = randomHex();
        const main = await copyIn(root, f, (b) => `profiles/${c.kind}_${who.id}_${b ? randomHex() : hex}${ext}`, copied, dirs);
        return mediaUrl(ctx, main.rel);
      };
      const avatarUrl = await profileUrl(avatar);
      const headerUrl = await profileUrl(header);

      const user = await rows.lockUser(trx, who.id);
      if (!user) throw NotFound('claims.restore.no_account');
      const writes: restores.NewWrite[] = [];
      const w = (x: Partial<restores.NewWrite> & { op: restores.NewWrite['op'] }): restores.NewWrite => ({ table_name: null, row_id: null, column_name: null, before: null, after: null, file_path: null, sha256: null, ...x });
      for (const c of copied) writes.push(w({ op: 'file', file_path: c.rel, sha256: c.sha256 }));
      const inserted = await rows.insertSubmissions(
        trx,
        newPosts.map((p) => ({
          author_id: who.id,
          old_id: p.key,
          title: p.title,
          caption: p.caption,
          hashtags: [],
          spell: '',
          ai_tool: '',
          image_url: p.kind === 'post_image' ? postFiles.get(p.key)!.url : null,
          video_url: p.kind === 'post_video' ? postFiles.get(p.key)!.url : null,
          created_at: p.created_at ?? new Date(),
        })),
      );
      inserted.forEach((r) => writes.push(w({ op: 'insert', table_name: 'submissions', row_id: r.id })));
      let meta = await rows.userMetaOf(trx, who.id);
      if (!meta && (header || sel.display_name || sel.bio)) {
        const id = await rows.insertUserMeta(trx, who.id, who.display_id);
        writes.push(w({ op: 'insert', table_name: 'user_meta', row_id: id }));
        meta = await rows.userMetaOf(trx, who.id);
      }
      const set = async (table: 'users' | 'user_meta', id: number, column: string, before: unknown, after: unknown) => {
        await rows.setColumn(trx, table, id, column, after);
        writes.push(w({ op: 'update', table_name: table, row_id: id, column_name: column, before, after }));
      };
      if (avatarUrl) await set('users', user.id, 'avatar_url', user.avatar_url, avatarUrl);
      if (headerUrl && meta) await set('user_meta', meta.id, 'header_url', meta.header_url, headerUrl);
      let profile = 0;
      if (sel.display_name && cand.old_display_name && meta && meta.display_name !== cand.old_display_name) {
        await set('user_meta', meta.id, 'display_name', meta.display_name, cand.old_display_name);
        profile++;
      }
      if (sel.bio && cand.old_bio && meta && meta.bio !== cand.old_bio) {
        await set('user_meta', meta.id, 'bio', meta.bio, cand.old_bio);
        profile++;
      }
      const doneCards = await rows.existingOldIds(trx, 'user_cards', cards.map((c) => c.key));
      const codes = await rows.cardIdsByCode(trx, cards.map((c) => c.code));
      const newCards = cards.filter((c) => !doneCards.has(c.key) && codes.has(c.code));
      const cardIds = await rows.insertUserCards(trx, newCards.map((c) => ({ user_id: who.id, card_id: codes.get(c.code)!, old_id: c.key, obtained_at: c.obtained_at })));
      cardIds.forEach((id) => writes.push(w({ op: 'insert', table_name: 'user_cards', row_id: id })));
      const edges = await restoreEdges(trx, oldEdges);
      edges.reactions.forEach((id) => writes.push(w({ op: 'insert', table_name: 'reactions', row_id: id })));
      edges.follows.forEach((id) => writes.push(w({ op: 'insert', table_name: 'user_follows', row_id: id })));
      const summary = { posts: inserted.length, cards: cardIds.length, reactions: edges.reactions.length, follows: edges.follows.length, pending_edges: edges.pending, avatar: avatarUrl ? 1 : 0, header: headerUrl ? 1 : 0, profile };
      if (!writes.length) return { ...nothing };
      const restoreId = await restores.insertRestore(trx, { user_id: who.id, claim_id: claimId, old_user_id: cand.old_user_id, created_by: who.actor, undo_until: undoUntil });
      await restores.recordWrites(trx, restoreId, writes);
      await restores.setSummary(trx, restoreId, summary);
      await recordAudit(trx, who.actor, 'claims.restore', `user:${who.id}`, { restore: restoreId, claim: claimId, old_user_id: cand.old_user_id, ...summary });
      return { restore_id: restoreId, posts: summary.posts, cards: summary.cards, reactions: summary.reactions, follows: summary.follows, pending_edges: edges.pending, avatar: Boolean(avatarUrl), header: Boolean(headerUrl), profile, undo_until: undoUntil };
    });
    if (result.restore_id === null) await removeCopied(copied);
    return result;
  } catch (err) {
    await removeCopied(copied);
    throw err;
  }
}

const postKeyForFile = (name: string) => `old-media:submissions/${name.slice(0, name.length - path.posix.extname(name).length)}`.slice(0, 100);

/**
 * Reactions and follows of the old database with this old id at one end,
 * written only when both ends are back: the other person holds an approved
 * claim on their old id and, for a reaction, the post is restored. The rest
 * stay where they are (the old database) and are completed by the restore
 * of the other side, which reads the same edges. Existing rows are kept.
 */
async function restoreEdges(trx: Knex.Transaction, edges: catalogue.OldEdge[]): Promise<{ reactions: number[]; follows: number[]; pending: number }> {
  if (!edges.length) return { reactions: [], follows: [], pending: 0 };
  const granted = await claimsRepo.grantedOldIds(trx, edges.flatMap((e) => [e.from_old, e.to_old]));
  const keys = edges.flatMap((e) => (e.kind === 'reaction' && e.post_file ? [postKeyForFile(e.post_file)] : []));
  const posts = await rows.submissionIdsByOldId(trx, keys);
  const reactions: Array<{ user_id: number; submission_id: number; type: string; created_at: Date }> = [];
  const follows: Array<{ follower_id: number; following_id: number; created_at: Date }> = [];
  let pending = 0;
  for (const e of edges) {
    const from = granted.get(e.from_old);
    if (e.kind === 'reaction') {
      const post = e.post_file ? posts.get(postKeyForFile(e.post_file)) : undefined;
      if (from !== undefined && post !== undefined) reactions.push({ user_id: from, submission_id: post, type: e.type!, created_at: e.created_at });
      else pending++;
    } else {
      const to = granted.get(e.to_old);
      if (from !== undefined && to !== undefined && from !== to) follows.push({ follower_id: from, following_id: to, created_at: e.created_at });
      else pending++;
    }
  }
  return { reactions: await rows.insertReactions(trx, reactions), follows: await rows.insertFollows(trx, follows), pending };
}

/**
 * Undoes one restore within its grace period, in one transaction: rows it
 * added are deleted newest first (children before parents), columns it set go
 * back unless the person changed them since, then the files it copied are
 * removed. Anything the person made since is untouched. A restored post that
 * others have reacted to since cannot be removed (FK at COMMIT): refused whole.
 */
export async function undo(ctx: AppContext, who: Actor, restoreId: number, opts: { staff?: boolean } = {}): Promise<{ removed: number }> {
  let files: restores.WriteRow[] = [];
  let removed = 0;
  try {
    await ctx.knex.transaction(async (trx) => {
      const r = await restores.lockRestore(trx, restoreId);
      if (!r || (r.user_id !== who.id && !opts.staff)) throw NotFound('claims.undo.not_found');
      if (r.status !== 'done') throw Conflict('claims.undo.already');
      if (r.undo_until < new Date() && !opts.staff) throw Conflict('claims.undo.expired');
      const writes = await restores.writesNewestFirst(trx, restoreId);
      files = writes.filter((x) => x.op === 'file');
      const byTable = new Map<rows.RestorableTable, number[]>();
      for (const x of writes) {
        if (x.op === 'update') await rows.resetColumnIfUnchanged(trx, x.table_name as 'users' | 'user_meta', x.row_id!, x.column_name!, x.after, x.before);
        if (x.op === 'insert') {
          // user_meta was created as a parent: it goes last, and only if nothing else needs it.
          const list = byTable.get(x.table_name as rows.RestorableTable) ?? [];
          list.push(x.row_id!);
          byTable.set(x.table_name as rows.RestorableTable, list);
        }
      }
      // Reactions another restore added on these posts go with them (they come back if the posts are restored again).
      const onPosts = await restores.insertedByRestores(trx, 'reactions', await rows.reactionIdsOn(trx, byTable.get('submissions') ?? []));
      byTable.set('reactions', [...new Set([...(byTable.get('reactions') ?? []), ...onPosts])]);
      for (const table of ['reactions', 'user_follows', 'user_cards', 'submissions', 'user_meta'] as const) {
        const ids = byTable.get(table);
        if (ids?.length) await rows.deleteRows(trx, table, ids);
        removed += ids?.length ?? 0;
      }
      await restores.markUndone(trx, restoreId);
      await recordAudit(trx, who.actor, 'claims.undo', `user:${r.user_id}`, { restore: restoreId, removed });
    });
  } catch (err) {
    if ((err as { code?: string }).code === '23503') throw Conflict('claims.undo.in_use');
    throw err;
  }
  const root = ctx.config.TOYBOX_MEDIA_DIR ? path.resolve(ctx.config.TOYBOX_MEDIA_DIR) : null;
  if (root) {
    const targets = files.map((f) => path.resolve(root, f.file_path!)).filter((abs) => abs.startsWith(root + path.sep));
    await removeCopied(targets.map((abs) => ({ abs })));
  }
  return { removed };
}

export async function myRestores(ctx: AppContext, userId: number): Promise<restores.RestoreRow[]> {
  return restores.restoresOfUser(ctx.knex, userId);
}

/**
 * A small preview of a catalogued file for its owner (an approved claim on
 * its old id) or staff; everyone else gets "not found". Thumbnails and
 * posters are served as they are; originals are scaled down.
 */
export async function preview(ctx: AppContext, who: { id: number; staff: boolean }, fileId: number): Promise<{ type: string; body: Buffer }> {
  const file = await catalogue.catalogueFile(ctx.knex, fileId);
  if (!file || file.old_user_id === null) throw NotFound();
  if (!who.staff) {
    if (!(await claimsRepo.hasApprovedClaim(ctx.knex, who.id, file.old_user_id))) throw NotFound();
  }
  if (file.kind === 'post_video') throw NotFound();
  try {
    // sharp (libvips) is loaded only when a preview is asked for: restores never need it.
    const { default: sharp } = await import('sharp');
    const body = await sharp(file.abs_path, { limitInputPixels: 50_000_000 }).rotate().resize(320, 320, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 80 }).toBuffer();
    return { type: 'image/jpeg', body };
  } catch {
    throw NotFound();
  }
}
