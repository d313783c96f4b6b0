import crypto from 'node:crypto';
import path from 'node:path';
import type { AppContext } from '../../app-context';
import { recordAudit } from '../../audit/service';
import { NotFound } from '../../http/errors';
import * as catalogue from '../../salvage-catalogue';
import * as rows from '../../toybox/restored-rows';
import * as restores from './restore-repo';
import { approvedClaimOf, type Actor } from './service';
import { mapLimit } from '../../system/map-limit';
import { derivedByOriginal, doneKeys, loadCandidates, type ProfileFileCandidate } from './candidates';
import { copyFolder, copyIn, djangoAvailableName, holdsSameFile, mediaDir, mediaUrl, pruneEmptyGameDirs, randomHex, removeCopied, sweepTemporaryCopies, type CopiedFile } from './media-copy';
import { restoreEdges } from './edges';
import { writeProfileValues } from './profile-writes';

export { candidates, type Candidates, type PostCandidate, type CardCandidate, type ProfileFileCandidate } from './candidates';
export { undo, myRestores, preview } from './undo';

export interface Selection {
  posts: 'all' | string[];
  cards: 'all' | string[];
  avatar: number | null;
  header: number | null;
  display_name: boolean;
  bio: boolean;
  /** Old articles by key (or all), restored as drafts; the person's article media come with the first. */
  articles?: 'all' | string[];
}

export interface RestoreResult {
  restore_id: number | null;
  posts: number;
  cards: number;
  reactions: number;
  bookmarks: number;
  reposts: number;
  follows: number;
  articles: number;
  /** Reactions, bookmarks, reposts and follows whose other end is not restored yet: completed by the other side's restore. */
  pending_edges: number;
  avatar: boolean;
  header: boolean;
  profile: number;
  undo_until: Date | null;
}

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
  const nothing = { restore_id: null, posts: 0, cards: 0, reactions: 0, bookmarks: 0, reposts: 0, follows: 0, articles: 0, pending_edges: 0, avatar: false, header: false, profile: 0, undo_until: null };
  const chosenArticles = new Set(sel.articles === 'all' || !sel.articles ? [] : sel.articles);
  const articles = sel.articles ? cand.articles.filter((a) => !a.restored && (sel.articles === 'all' || chosenArticles.has(a.key))) : [];
  if (!posts.length && !cards.length && !avatar && !header && !sel.display_name && !sel.bio && !articles.length) return nothing;

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
      const doneArticles = articles.length ? await doneKeys(trx, 'articles', articles.map((a) => a.key)) : new Set<string>();
      const newPosts = posts.filter((p) => !donePosts.has(p.key));
      const newArticles = articles.length ? articles.filter((a) => !doneArticles.has(a.key)) : [];
      const doneMedia = newArticles.length ? await doneKeys(trx, 'article_media', cand.article_media.map((m) => m.key)) : new Set<string>();
      const newMedia = newArticles.length ? cand.article_media.filter((m) => !doneMedia.has(m.key)) : [];
      const root = newPosts.length || avatar || header || newArticles.length ? mediaDir(ctx) : '';
      if (root) await sweepTemporaryCopies(root, who.id);
      // Files before rows: a crash leaves at most unreferenced copies, never rows without files.
      const postFiles = new Map<string, { url: string; thumbnail?: string }>();
      const dirs = new Set<string>();
      // A few copies in flight: the disk, not one file at a time, sets the pace.
      await mapLimit(newPosts, 8, async (p) => {
        if (p.game) {
          const ts = p.game.folder.split('/')[2]!;
          const folder = await copyFolder(root, p.game.file_ids.map((id) => files.get(id)!), p.game.folder, (b) => `games/${who.display_id}/${Number(ts) + b}`, copied);
          // The thumbnail the old row named, under the name Django's storage would give it (its own name, else
          // a random suffix), never adopting a file already there: without a user id in its name it may be someone's.
          let thumbnail: string | undefined;
          if (p.game.thumbnail_file_id !== null) {
            const t = files.get(p.game.thumbnail_file_id)!;
            thumbnail = (await copyIn(root, t, (b) => djangoAvailableName('submissions/thumbnails', path.posix.basename(t.rel_path), b), copied, dirs, { adopt: false })).rel;
          }
          // TOYBOX serves games under /media/ and stores that absolute URL in game_url.
          postFiles.set(p.key, { url: `${ctx.config.TOYBOX_URL.replace(/\/$/, '')}/media/${folder}${p.game.index.slice(p.game.folder.length)}`, thumbnail });
          return;
        }
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
      // Article files keep their uuid names (the article bodies point at them) when free; a taken name gets a new
      // uuid, as TOYBOX's upload_to would give. Never adopted: a name without a user id may be someone's file.
      const articleFile = async (fileId: number) => {
        const f = files.get(fileId)!;
        const dir = path.posix.dirname(f.rel_path);
        const ext = path.posix.extname(f.rel_path).toLowerCase();
        return (await copyIn(root, f, (b) => (b ? `${dir}/${crypto.randomUUID().replace(/-/g, '')}${ext}` : f.rel_path), copied, dirs, { adopt: false })).rel;
      };
      const articleThumbs = new Map<string, string>();
      for (const a of newArticles) if (a.thumbnail_file_id !== null) articleThumbs.set(a.key, await articleFile(a.thumbnail_file_id));
      const mediaFiles = new Map<string, string>();
      for (const m of newMedia) mediaFiles.set(m.key, await articleFile(m.file_id));
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
          hashtags: p.hashtags,
          spell: p.spell,
          ai_tool: p.ai_tool,
          image_url: p.kind === 'post_image' ? postFiles.get(p.key)!.url : null,
          video_url: p.kind === 'post_video' ? postFiles.get(p.key)!.url : null,
          game_url: p.kind === 'game' ? postFiles.get(p.key)!.url : null,
          thumbnail: p.kind === 'game' ? (postFiles.get(p.key)!.thumbnail ?? null) : null,
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
      const profile = await writeProfileValues(trx, (x) => writes.push(w(x)), user, meta, {
        avatarUrl,
        headerUrl,
        displayName: sel.display_name ? cand.old_display_name : null,
        bio: sel.bio ? cand.old_bio : null,
      });
      const doneCards = await rows.existingOldIds(trx, 'user_cards', cards.map((c) => c.key));
      const codes = await rows.cardIdsByCode(trx, cards.map((c) => c.code));
      const newCards = cards.filter((c) => !doneCards.has(c.key) && codes.has(c.code));
      const cardIds = await rows.insertUserCards(trx, newCards.map((c) => ({ user_id: who.id, card_id: codes.get(c.code)!, old_id: c.key, obtained_at: c.obtained_at })));
      cardIds.forEach((id) => writes.push(w({ op: 'insert', table_name: 'user_cards', row_id: id })));
      const provenance: Array<{ table_name: string; row_id: number; old_key: string }> = [];
      for (const a of newArticles) {
        const id = await rows.insertArticle(trx, {
          author_id: who.id,
          title: a.title,
          slug: await rows.freeSlug(trx, a.row.slug),
          thumbnail: articleThumbs.get(a.key) ?? null,
          thumbnail_url: a.row.thumbnail_url,
          body: a.row.body,
          custom_css: a.row.custom_css,
          published_at: a.row.published_at,
          pt_awarded: a.row.pt_awarded,
          created_at: a.row.created_at,
        });
        writes.push(w({ op: 'insert', table_name: 'articles', row_id: id }));
        provenance.push({ table_name: 'articles', row_id: id, old_key: a.key });
      }
      const mediaIds = await rows.insertArticleMedia(trx, newMedia.map((m) => ({ uploader_id: who.id, file: mediaFiles.get(m.key)!, media_type: m.row.media_type, original_name: m.row.original_name, created_at: m.row.created_at })));
      mediaIds.forEach((id, i) => {
        writes.push(w({ op: 'insert', table_name: 'article_media', row_id: id }));
        provenance.push({ table_name: 'article_media', row_id: id, old_key: newMedia[i]!.key });
      });
      const edges = await restoreEdges(trx, oldEdges);
      edges.reactions.forEach((id) => writes.push(w({ op: 'insert', table_name: 'reactions', row_id: id })));
      edges.bookmarks.forEach((id) => writes.push(w({ op: 'insert', table_name: 'submission_bookmarks', row_id: id })));
      edges.reposts.forEach((id) => writes.push(w({ op: 'insert', table_name: 'submission_reposts', row_id: id })));
      edges.follows.forEach((id) => writes.push(w({ op: 'insert', table_name: 'user_follows', row_id: id })));
      const summary = { posts: inserted.length, cards: cardIds.length, reactions: edges.reactions.length, bookmarks: edges.bookmarks.length, reposts: edges.reposts.length, follows: edges.follows.length, articles: newArticles.length, pending_edges: edges.pending, avatar: avatarUrl ? 1 : 0, header: headerUrl ? 1 : 0, profile };
      if (!writes.length) return { ...nothing };
      const restoreId = await restores.insertRestore(trx, { user_id: who.id, claim_id: claimId, old_user_id: cand.old_user_id, created_by: who.actor, undo_until: undoUntil });
      await restores.recordWrites(trx, restoreId, writes);
      await restores.recordProvenance(trx, restoreId, provenance);
      await restores.setSummary(trx, restoreId, summary);
      await recordAudit(trx, who.actor, 'claims.restore', `user:${who.id}`, { restore: restoreId, claim: claimId, old_user_id: cand.old_user_id, ...summary });
      return { restore_id: restoreId, posts: summary.posts, cards: summary.cards, reactions: summary.reactions, bookmarks: summary.bookmarks, reposts: summary.reposts, follows: summary.follows, articles: summary.articles, pending_edges: edges.pending, avatar: Boolean(avatarUrl), header: Boolean(headerUrl), profile, undo_until: undoUntil };
    });
    if (result.restore_id === null) await discard(ctx, copied);
    return result;
  } catch (err) {
    await discard(ctx, copied);
    throw err;
  }
}

/** Removes the copies of a restore that did not commit (or added nothing), and the game folders they leave empty. */
async function discard(ctx: AppContext, copied: CopiedFile[]): Promise<void> {
  await removeCopied(copied);
  if (ctx.config.TOYBOX_MEDIA_DIR) await pruneEmptyGameDirs(path.resolve(ctx.config.TOYBOX_MEDIA_DIR), copied.map((c) => c.abs));
}
