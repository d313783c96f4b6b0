import path from 'node:path';
import type { Knex } from 'knex';

/**
 * Read-only questions other features may ask of what `salvage` catalogued
 * (portal.salvage_* and the loaded old databases in schemas salvage_<id>).
 * Nothing here writes; the salvage feature owns those tables.
 */

/** TOYBOX stored images exactly as uploaded until commit 6f080eb (2026-01-20); later ones are re-encoded (RECOVERY.md §1). */
export const REENCODE_FROM = new Date('2026-01-20T00:00:00Z');

/** Kinds that are what a person uploaded (derived thumbnails and posters are the site's own output). */
export const ORIGINAL_KINDS = ['post_image', 'post_video', 'game_file', 'avatar', 'header'] as const;

export interface CatalogueFile {
  id: number;
  source_id: number;
  rel_path: string;
  /** Absolute path of the file in the salvaged tree (read-only). */
  abs_path: string;
  sha256: string;
  size: number;
  kind: string;
  era: 'old' | 'new';
  old_user_id: number | null;
  display_id: string | null;
  uploaded_at: Date | null;
  stem: string | null;
  original_path: string | null;
  game_folder: string | null;
}

interface FileDbRow extends Omit<CatalogueFile, 'abs_path'> {
  locator: string;
}

function withAbs(r: FileDbRow): CatalogueFile {
  const { locator, ...rest } = r;
  // rel_path comes from our own walk and never holds '..'; resolve keeps it inside the tree regardless.
  const abs = path.resolve(locator, r.rel_path);
  if (!abs.startsWith(path.resolve(locator) + path.sep)) throw new Error(`catalogued path escapes its tree: ${r.rel_path}`);
  return { ...rest, id: Number(r.id), size: Number(r.size), source_id: Number(r.source_id), abs_path: abs };
}

const fileColumns = ['f.id', 'f.source_id', 'f.rel_path', 'f.sha256', 'f.size', 'f.kind', 'f.era', 'f.old_user_id', 'f.display_id', 'f.uploaded_at', 'f.stem', 'f.original_path', 'f.game_folder', 's.locator'];

function oldFiles(knex: Knex) {
  return knex('portal.salvage_files as f')
    .join('portal.salvage_sources as s', 's.id', 'f.source_id')
    .where('s.kind', 'media')
    .where('f.era', 'old')
    .select(fileColumns);
}

/** Old-era catalogued files whose bytes equal one of `hashes`. */
export async function filesWithHashes(knex: Knex, hashes: string[]): Promise<CatalogueFile[]> {
  if (!hashes.length) return [];
  const rows = (await oldFiles(knex).whereIn('f.sha256', hashes).orderBy('f.id')) as FileDbRow[];
  return rows.map(withAbs);
}

/** One old user id's cluster: its posts, avatars and headers (originals) and the derived files beside them. */
export async function clusterFiles(knex: Knex, oldUserId: number): Promise<CatalogueFile[]> {
  const rows = (await oldFiles(knex).where('f.old_user_id', oldUserId).orderBy(['f.uploaded_at', 'f.id'])) as FileDbRow[];
  return rows.map(withAbs);
}

export async function catalogueFile(knex: Knex, id: number): Promise<CatalogueFile | null> {
  const row = (await oldFiles(knex).where('f.id', id).first()) as FileDbRow | undefined;
  return row ? withAbs(row) : null;
}

/** Loaded old databases, oldest load first (the first one holding a row wins). */
async function oldSchemas(knex: Knex): Promise<string[]> {
  const rows = await knex('portal.salvage_sources').where({ kind: 'database', status: 'complete' }).whereNotNull('schema_name').orderBy('id').select('schema_name');
  return rows.map((r: { schema_name: string }) => r.schema_name).filter((s: string) => /^salvage_\d+$/.test(s));
}

async function hasTable(knex: Knex, schema: string, table: string): Promise<boolean> {
  const { rows } = await knex.raw<{ rows: Array<{ ok: boolean }> }>('SELECT to_regclass(?) IS NOT NULL AS ok', [`${schema}.${table}`]);
  return rows[0]!.ok;
}

export interface OldAccount {
  old_user_id: number;
  display_id: string;
  email: string | null;
  display_name: string | null;
  bio: string | null;
  created_at: Date | null;
}

async function findOldAccounts(knex: Knex, where: (q: Knex.QueryBuilder) => void): Promise<OldAccount[]> {
  const out = new Map<number, OldAccount>();
  for (const schema of await oldSchemas(knex)) {
    if (!(await hasTable(knex, schema, 'users'))) continue;
    const meta = await hasTable(knex, schema, 'user_meta');
    const q = knex.withSchema(schema).from('users as u').select('u.id', 'u.display_id', 'u.email', 'u.created_at');
    if (meta) q.leftJoin('user_meta as m', 'm.user_id', 'u.id').select('m.display_name', 'm.bio');
    where(q);
    // An older TOYBOX schema may lack a column asked about (studysphere_user_id came later): nothing to find there.
    const found = await q.catch((err: { code?: string }) => {
      if (err.code === '42703') return [];
      throw err;
    });
    for (const r of found as Array<{ id: number; display_id: string; email: string | null; display_name?: string; bio?: string; created_at: Date }>) {
      const id = Number(r.id);
      if (!out.has(id)) out.set(id, { old_user_id: id, display_id: r.display_id, email: r.email, display_name: r.display_name ?? null, bio: r.bio ?? null, created_at: r.created_at ?? null });
    }
  }
  return [...out.values()];
}

/** Old accounts whose e-mail is this address (case-insensitive, as Django's e-mail lookups in practice are). */
export function oldAccountsByEmail(knex: Knex, email: string): Promise<OldAccount[]> {
  return findOldAccounts(knex, (q) => q.whereRaw('lower(u.email) = lower(?)', [email]));
}

export function oldAccountsByDisplayId(knex: Knex, displayId: string): Promise<OldAccount[]> {
  return findOldAccounts(knex, (q) => q.whereRaw('lower(u.display_id) = lower(?)', [displayId]));
}

export async function oldAccount(knex: Knex, oldUserId: number): Promise<OldAccount | null> {
  return (await findOldAccounts(knex, (q) => q.where('u.id', oldUserId)))[0] ?? null;
}

/** Old user ids that catalogued files name with this display id (games are stored under it). */
export async function oldIdsNamedInFiles(knex: Knex, displayId: string): Promise<number[]> {
  const rows = await knex('portal.salvage_files').where({ era: 'old' }).whereRaw('lower(display_id) = lower(?)', [displayId]).whereNotNull('old_user_id').distinct('old_user_id');
  return rows.map((r: { old_user_id: number }) => Number(r.old_user_id));
}

export interface OldCard {
  old_id: number;
  code: string;
  name: string;
  rarity: string;
  obtained_at: Date;
}

/** The cards an old database says this old user owned (with the master's code, which survives in the new master list). */
export async function oldCards(knex: Knex, oldUserId: number): Promise<OldCard[]> {
  for (const schema of await oldSchemas(knex)) {
    if (!(await hasTable(knex, schema, 'user_cards')) || !(await hasTable(knex, schema, 'cards'))) continue;
    const rows = await knex
      .withSchema(schema)
      .from('user_cards as uc')
      .join('cards as c', 'c.id', 'uc.card_id')
      .where('uc.user_id', oldUserId)
      .orderBy('uc.id')
      .select('uc.id as old_id', 'c.code', 'c.name', 'c.rarity', 'uc.obtained_at');
    if (rows.length) return rows.map((r: OldCard) => ({ ...r, old_id: Number(r.old_id) }));
  }
  return [];
}

export interface OldPostRow {
  old_id: number;
  title: string;
  caption: string;
  hashtags: unknown;
  spell: string;
  ai_tool: string;
  image_url: string | null;
  video_url: string | null;
  image: string | null;
  game_url: string | null;
  /** A game's thumbnail as its ImageField stored it (`submissions/thumbnails/<name>`). */
  thumbnail: string | null;
  created_at: Date;
}

/** An old database's posts by this old user, to give media-only candidates their title, caption and time. */
export async function oldPosts(knex: Knex, oldUserId: number): Promise<OldPostRow[]> {
  for (const schema of await oldSchemas(knex)) {
    if (!(await hasTable(knex, schema, 'submissions'))) continue;
    // select * : older TOYBOX schemas lack some columns (spell, ai_tool came later)
    const rows = (await knex.withSchema(schema).from('submissions').where('author_id', oldUserId).orderBy('id').select('*')) as Array<Record<string, unknown>>;
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    if (rows.length)
      return rows.map((r) => ({
        old_id: Number(r.id),
        title: text(r.title),
        caption: text(r.caption),
        hashtags: r.hashtags ?? [],
        spell: text(r.spell),
        ai_tool: text(r.ai_tool),
        image_url: (r.image_url as string | null) ?? null,
        video_url: (r.video_url as string | null) ?? null,
        image: (r.image as string | null) ?? null,
        game_url: typeof r.game_url === 'string' && r.game_url ? r.game_url : null,
        thumbnail: typeof r.thumbnail === 'string' && r.thumbnail ? r.thumbnail : null,
        created_at: r.created_at as Date,
      }));
  }
  return [];
}

/** Old accounts made through StudySphere SSO with this StudySphere user id. */
export function oldAccountsByStudysphereId(knex: Knex, studysphereUserId: number): Promise<OldAccount[]> {
  return findOldAccounts(knex, (q) => q.where('u.studysphere_user_id', studysphereUserId));
}

export interface OldFact {
  kind: string;
  occurred_at: Date | null;
  display_name: string | null;
  file_name: string | null;
  source_line: string;
}

/** What logs and Discord shares say about an old id (staff evidence), newest first, at most `limit`. */
export async function factsForOldId(knex: Knex, oldUserId: number, limit = 30): Promise<OldFact[]> {
  const rows = await knex('portal.salvage_facts').where({ old_user_id: oldUserId }).orderBy('occurred_at', 'desc').limit(limit).select('kind', 'occurred_at', 'display_name', 'file_name', 'source_line');
  return rows.map((r: OldFact) => ({ ...r, source_line: r.source_line.slice(0, 300) }));
}

export interface OldEdge {
  /** A reaction, bookmark or repost points at a post (`to_old` is its author); a follow at a person. */
  kind: 'reaction' | 'bookmark' | 'repost' | 'follow';
  from_old: number;
  to_old: number;
  /** Post edges: the stored name of the post's image or video file (what ties it to a restored post). */
  post_file: string | null;
  /** Post edges on a game: its folder `games/{display id}/{ts}` (from the old row's game_url). */
  post_game: string | null;
  type: string | null;
  created_at: Date;
}

const fileNameOf = (r: Record<string, unknown>): string | null => {
  for (const v of [r.image, r.image_url, r.video_url]) if (typeof v === 'string' && v) return path.posix.basename(v.split('?')[0]!);
  return null;
};

/** The folder `games/{display id}/{ts}` a game post's game_url points into (TOYBOX serves games under /media/). */
export function gameFolderOf(gameUrl: unknown): string | null {
  if (typeof gameUrl !== 'string') return null;
  const m = /\/media\/(games\/[^/?#]+\/\d+)\//.exec(gameUrl);
  return m ? m[1]! : null;
}

/** Edges on posts (reactions, bookmarks, reposts) from one table of an old database, either end this old id. */
async function postEdges(knex: Knex, schema: string, table: string, kind: 'reaction' | 'bookmark' | 'repost', oldUserId: number): Promise<OldEdge[]> {
  const cols = ['r.user_id', 's.author_id', 'r.created_at', 's.image', 's.image_url', 's.video_url', 's.game_url'];
  if (kind === 'reaction') cols.push('r.type');
  const rows = (await knex
    .withSchema(schema)
    .from(`${table} as r`)
    .join('submissions as s', 's.id', 'r.submission_id')
    .where((q) => q.where('r.user_id', oldUserId).orWhere('s.author_id', oldUserId))
    .orderBy('r.id')
    .select(cols)) as Array<Record<string, unknown>>;
  return rows.map((r) => ({ kind, from_old: Number(r.user_id), to_old: Number(r.author_id), post_file: fileNameOf(r), post_game: gameFolderOf(r.game_url), type: kind === 'reaction' ? String(r.type) : null, created_at: r.created_at as Date }));
}

/** Reactions, bookmarks, reposts and follows an old database holds with this old id at either end. */
export async function oldEdgesTouching(knex: Knex, oldUserId: number): Promise<OldEdge[]> {
  for (const schema of await oldSchemas(knex)) {
    const out: OldEdge[] = [];
    const hasPosts = await hasTable(knex, schema, 'submissions');
    const postTables = [] as Array<['reaction' | 'bookmark' | 'repost', string]>;
    for (const [kind, table] of [['reaction', 'reactions'], ['bookmark', 'submission_bookmarks'], ['repost', 'submission_reposts']] as const) {
      if (hasPosts && (await hasTable(knex, schema, table))) postTables.push([kind, table]);
    }
    const hasFollows = await hasTable(knex, schema, 'user_follows');
    if (!postTables.length && !hasFollows) continue;
    for (const [kind, table] of postTables) out.push(...(await postEdges(knex, schema, table, kind, oldUserId)));
    if (hasFollows) {
      const rows = (await knex.withSchema(schema).from('user_follows').where((q) => q.where('follower_id', oldUserId).orWhere('following_id', oldUserId)).orderBy('id').select('follower_id', 'following_id', 'created_at')) as Array<Record<string, unknown>>;
      for (const r of rows) out.push({ kind: 'follow', from_old: Number(r.follower_id), to_old: Number(r.following_id), post_file: null, post_game: null, type: null, created_at: r.created_at as Date });
    }
    return out;
  }
  return [];
}

/** Old-era game files stored under this display id (games/{display_id}/{ts}/...), by folder. */
export async function gameFilesOf(knex: Knex, displayId: string): Promise<CatalogueFile[]> {
  const rows = (await oldFiles(knex).where('f.kind', 'game_file').whereRaw('lower(f.display_id) = lower(?)', [displayId]).orderBy(['f.rel_path'])) as Array<FileDbRow & { game_folder?: string }>;
  return rows.map(withAbs);
}

/** The old-era catalogued file stored at this path of an uploads tree (first catalogued wins), e.g. a game's thumbnail. */
export async function oldFileAt(knex: Knex, relPath: string): Promise<CatalogueFile | null> {
  const row = (await oldFiles(knex).where('f.rel_path', relPath).orderBy('f.id').first()) as FileDbRow | undefined;
  return row ? withAbs(row) : null;
}

/** Old-era catalogued files at these paths (first catalogued of each path wins). */
export async function oldFilesAt(knex: Knex, relPaths: string[]): Promise<Map<string, CatalogueFile>> {
  const out = new Map<string, CatalogueFile>();
  if (!relPaths.length) return out;
  const rows = (await oldFiles(knex).whereIn('f.rel_path', [...new Set(relPaths)]).orderBy('f.id')) as FileDbRow[];
  for (const r of rows) if (!out.has(r.rel_path)) out.set(r.rel_path, withAbs(r));
  return out;
}

export interface OldArticle {
  old_id: number;
  title: string;
  slug: string;
  /** As its ImageField stored it: `articles/thumbnails/{uuid}.ext` (relative to the uploads root). */
  thumbnail: string | null;
  thumbnail_url: string | null;
  body: unknown;
  custom_css: string;
  status: string;
  published_at: Date | null;
  pt_awarded: boolean;
  created_at: Date;
}

export interface OldArticleMedia {
  old_id: number;
  /** `articles/media/{uuid}.ext` */
  file: string;
  media_type: string;
  original_name: string;
  created_at: Date;
}

/** The articles and article media an old database holds by this old user (the first database holding any wins). */
export async function oldArticles(knex: Knex, oldUserId: number): Promise<{ articles: OldArticle[]; media: OldArticleMedia[] }> {
  for (const schema of await oldSchemas(knex)) {
    if (!(await hasTable(knex, schema, 'articles'))) continue;
    const rows = (await knex.withSchema(schema).from('articles').where('author_id', oldUserId).orderBy('id').select('*')) as Array<Record<string, unknown>>;
    const media = (await hasTable(knex, schema, 'article_media')) ? ((await knex.withSchema(schema).from('article_media').where('uploader_id', oldUserId).orderBy('id').select('*')) as Array<Record<string, unknown>>) : [];
    if (!rows.length && !media.length) continue;
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    return {
      articles: rows.map((r) => ({
        old_id: Number(r.id),
        title: text(r.title),
        slug: text(r.slug),
        thumbnail: text(r.thumbnail) || null,
        thumbnail_url: text(r.thumbnail_url) || null,
        body: r.body ?? [],
        custom_css: text(r.custom_css),
        status: text(r.status),
        published_at: (r.published_at as Date | null) ?? null,
        pt_awarded: r.pt_awarded === true,
        created_at: r.created_at as Date,
      })),
      media: media.map((m) => ({ old_id: Number(m.id), file: text(m.file), media_type: text(m.media_type), original_name: text(m.original_name), created_at: m.created_at as Date })),
    };
  }
  return { articles: [], media: [] };
}
