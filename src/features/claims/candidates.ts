import path from 'node:path';
import type { Knex } from 'knex';
import type { AppContext } from '../../app-context';
import * as catalogue from '../../salvage-catalogue';
import * as rows from '../../toybox/restored-rows';
import * as restores from './restore-repo';
import { approvedClaimOf } from './service';
import { plainText } from './text';

export interface PostCandidate {
  key: string;
  file_id: number;
  kind: 'post_image' | 'post_video' | 'game';
  rel_path: string;
  title: string;
  caption: string;
  created_at: Date | null;
  /** From the old row when there is one: hashtags, prompt (spell) and AI tool, as plain text. */
  hashtags: string[];
  spell: string;
  ai_tool: string;
  from_database: boolean;
  preview_id: number | null;
  restored: boolean;
  /**
   * Games: every file of the folder, the index.html TOYBOX's upload view would have found first, and the
   * thumbnail the old row names (`submissions/thumbnails/<name>`) when the catalogue holds that file.
   */
  game?: { folder: string; file_ids: number[]; index: string; thumbnail_file_id: number | null };
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

/** An old article: restored as a draft with its thumbnail; the person's article media come with it. */
export interface ArticleCandidate {
  key: string;
  title: string;
  created_at: Date;
  was_published: boolean;
  thumbnail_file_id: number | null;
  restored: boolean;
  /** The rest of the old row, written as it was (body and custom CSS are what TOYBOX's editor stored). */
  row: catalogue.OldArticle;
}

export interface ArticleMediaCandidate {
  key: string;
  file_id: number;
  row: catalogue.OldArticleMedia;
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
  articles: ArticleCandidate[];
  /** Media the old id uploaded for its articles whose files the catalogue holds (restored with any article). */
  article_media: ArticleMediaCandidate[];
}

export const postKey = (f: catalogue.CatalogueFile) => `old-media:${f.stem ?? f.rel_path}`.slice(0, 100);
export const cardKey = (oldId: number) => `old-db:user_cards:${oldId}`;
export const articleKey = (oldId: number) => `old-db:articles:${oldId}`;
export const articleMediaKey = (oldId: number) => `old-db:article_media:${oldId}`;

/** Provenance keys of a table without old_id whose restored row still exists (undone or deleted ones are open again). */
export async function doneKeys(db: Knex | Knex.Transaction, table: 'articles' | 'article_media', keys: string[]): Promise<Set<string>> {
  const prov = await restores.provenanceRows(db, table, keys);
  const live = await rows.existingIds(db, table, prov.map((p) => p.row_id));
  return new Set(prov.filter((p) => live.has(p.row_id)).map((p) => p.old_key));
}

/** Only files where TOYBOX's upload_to functions put them: `articles/{thumbnails|media}/{hex}.{ext}`. */
const articlePath = (v: string | null, folder: 'thumbnails' | 'media') => (v && new RegExp(`^articles/${folder}/[0-9A-Za-z_-]+\\.[0-9A-Za-z]+$`).test(v) ? v : null);

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
export function derivedByOriginal(files: Iterable<catalogue.CatalogueFile>): Map<string, catalogue.CatalogueFile[]> {
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

export async function loadCandidates(ctx: AppContext, userId: number, claimId: number): Promise<{ cand: Candidates; files: catalogue.CatalogueFile[] }> {
  const claim = await approvedClaimOf(ctx.knex, userId, claimId);
  const files = await catalogue.clusterFiles(ctx.knex, claim.old_user_id);
  const oldPostRows = await catalogue.oldPosts(ctx.knex, claim.old_user_id);
  const oldRows = rowsByFileName(oldPostRows);
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
      hashtags: Array.isArray(row?.hashtags) ? (row.hashtags as unknown[]).map((t) => plainText(t, 100)).filter(Boolean).slice(0, 50) : [],
      spell: plainText(row?.spell ?? '', 8000),
      ai_tool: plainText(row?.ai_tool ?? '', 64),
      from_database: Boolean(row),
      preview_id: preview?.id ?? null,
      restored: false,
    });
  }
  const account = await catalogue.oldAccount(ctx.knex, claim.old_user_id);
  const games = account ? await gameCandidates(ctx, account.display_id, claim.old_user_id, oldPostRows) : { posts: [], files: [] };
  posts.push(...games.posts);
  files.push(...games.files);
  const oldCards = await catalogue.oldCards(ctx.knex, claim.old_user_id);
  const { postDone, cardDone, codes } = await ctx.knex.transaction(async (trx) => ({
    postDone: await rows.existingOldIds(trx, 'submissions', posts.map((p) => p.key)),
    cardDone: await rows.existingOldIds(trx, 'user_cards', oldCards.map((c) => cardKey(c.old_id))),
    codes: await rows.cardIdsByCode(trx, oldCards.map((c) => c.code)),
  }));
  for (const p of posts) p.restored = postDone.has(p.key);
  const old = await catalogue.oldArticles(ctx.knex, claim.old_user_id);
  const articleFiles = await catalogue.oldFilesAt(ctx.knex, [...old.articles.map((a) => articlePath(a.thumbnail, 'thumbnails')), ...old.media.map((m) => articlePath(m.file, 'media'))].filter((v): v is string => v !== null));
  files.push(...articleFiles.values());
  const articleDone = await doneKeys(ctx.knex, 'articles', old.articles.map((a) => articleKey(a.old_id)));
  const mediaDone = await doneKeys(ctx.knex, 'article_media', old.media.map((m) => articleMediaKey(m.old_id)));
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
    articles: old.articles.map((a) => {
      const thumb = articlePath(a.thumbnail, 'thumbnails');
      return { key: articleKey(a.old_id), title: plainText(a.title, 200), created_at: a.created_at, was_published: a.status === 'published', thumbnail_file_id: (thumb && articleFiles.get(thumb)?.id) || null, restored: articleDone.has(articleKey(a.old_id)), row: a };
    }),
    article_media: old.media.flatMap((m) => {
      const f = articleFiles.get(articlePath(m.file, 'media') ?? '');
      return f ? [{ key: articleMediaKey(m.old_id), file_id: f.id, row: m, restored: mediaDone.has(articleMediaKey(m.old_id)) }] : [];
    }),
  };
  return { cand, files };
}

/**
 * An old id's games: folders games/{display_id}/{ts}/ under its old display id,
 * offered only when exactly one old account had that display id (it was not
 * unique). The entry page is what TOYBOX's upload view picks: the first
 * index.html walking top-down (shallowest, then by name).
 */
async function gameCandidates(ctx: AppContext, displayId: string, oldUserId: number, oldPostRows: catalogue.OldPostRow[]): Promise<{ posts: PostCandidate[]; files: catalogue.CatalogueFile[] }> {
  const owners = await catalogue.oldAccountsByDisplayId(ctx.knex, displayId);
  if (owners.length !== 1 || owners[0]!.old_user_id !== oldUserId) return { posts: [], files: [] };
  const files = await catalogue.gameFilesOf(ctx.knex, displayId);
  const byFolder = new Map<string, catalogue.CatalogueFile[]>();
  for (const f of files) {
    if (!f.game_folder) continue;
    const list = byFolder.get(f.game_folder) ?? [];
    list.push(f);
    byFolder.set(f.game_folder, list);
  }
  // The old rows of game posts, by the folder their game_url points into (they give title, caption, time, thumbnail).
  const rowByFolder = new Map<string, catalogue.OldPostRow>();
  for (const r of oldPostRows) {
    const folder = catalogue.gameFolderOf(r.game_url);
    if (folder && !rowByFolder.has(folder.toLowerCase())) rowByFolder.set(folder.toLowerCase(), r);
  }
  const posts: PostCandidate[] = [];
  const extra: catalogue.CatalogueFile[] = [];
  for (const [folder, list] of byFolder) {
    const index = list
      .map((f) => f.rel_path)
      .filter((p) => path.posix.basename(p) === 'index.html')
      .sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b))[0];
    if (!index) continue;
    const row = rowByFolder.get(folder.toLowerCase());
    // Only a thumbnail under submissions/thumbnails/ (where TOYBOX's ImageField puts them), as a plain name.
    const thumbRel = row?.thumbnail && /^submissions\/thumbnails\/[^/\\]+$/.test(row.thumbnail) && !row.thumbnail.includes('..') ? row.thumbnail : null;
    const thumb = thumbRel ? await catalogue.oldFileAt(ctx.knex, thumbRel) : null;
    if (thumb) extra.push(thumb);
    posts.push({
      key: `old-media:${folder}`.slice(0, 100),
      file_id: list[0]!.id,
      kind: 'game',
      rel_path: index,
      title: plainText(row?.title ?? '', 20),
      caption: plainText(row?.caption ?? '', 140),
      created_at: row?.created_at ?? list[0]!.uploaded_at,
      hashtags: Array.isArray(row?.hashtags) ? (row.hashtags as unknown[]).map((t) => plainText(t, 100)).filter(Boolean).slice(0, 50) : [],
      spell: plainText(row?.spell ?? '', 8000),
      ai_tool: plainText(row?.ai_tool ?? '', 64),
      from_database: Boolean(row),
      preview_id: null,
      restored: false,
      game: { folder, file_ids: list.map((f) => f.id), index, thumbnail_file_id: thumb?.id ?? null },
    });
  }
  return { posts, files: [...files, ...extra] };
}
