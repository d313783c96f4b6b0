import type { Knex } from 'knex';

/**
 * Writes of recovered rows into TOYBOX's tables, as RECOVERY.md §4 says:
 * ids from the identity sequences (never old keys), provenance in `old_id`,
 * the original time in `created_at`, the NOT NULL defaults Django's models
 * give (see rows.ts), and nothing that fans out (no notifications, points,
 * lottery). Callers pass one transaction; foreign keys are checked at COMMIT.
 */
type Trx = Knex.Transaction;

/** Restorable tables and the rows they may hold back to: the only table names undo will ever delete from. */
export const RESTORABLE_TABLES = ['reactions', 'user_follows', 'submissions', 'user_cards', 'user_meta'] as const;
export type RestorableTable = (typeof RESTORABLE_TABLES)[number];
/** Columns a restore may set on a person's existing rows (offered as choices, never forced). */
export const RESTORABLE_COLUMNS: Record<string, string[]> = { users: ['avatar_url'], user_meta: ['header_url', 'display_name', 'bio'] };

export interface RestoredSubmission {
  author_id: number;
  old_id: string;
  title: string;
  caption: string;
  hashtags: string[];
  spell: string;
  ai_tool: string;
  image_url: string | null;
  video_url: string | null;
  game_url: string | null;
  created_at: Date;
}

/** The person's row, locked for the restore (a second restore of the same account waits). */
export async function lockUser(trx: Trx, userId: number): Promise<{ id: number; avatar_url: string | null } | undefined> {
  const row = await trx('public.users').where({ id: userId }).forUpdate().first('id', 'avatar_url');
  return row ? { id: Number(row.id), avatar_url: row.avatar_url } : undefined;
}

export async function userMetaOf(trx: Trx, userId: number): Promise<{ id: number; header_url: string | null; display_name: string; bio: string } | undefined> {
  const row = await trx('public.user_meta').where({ user_id: userId }).forUpdate().first('id', 'header_url', 'display_name', 'bio');
  return row ? { ...row, id: Number(row.id) } : undefined;
}

/** The profile row TOYBOX creates lazily (get_or_create), with its model defaults. */
export async function insertUserMeta(trx: Trx, userId: number, displayName: string): Promise<number> {
  const [row] = await trx('public.user_meta')
    .insert({
      user_id: userId,
      bio: '',
      display_name: displayName.slice(0, 50),
      header_url: '',
      lottery_bonus_count: 0,
      notifications: JSON.stringify([]),
      onboarding_completed: JSON.stringify({}),
      earned_titles: JSON.stringify([]),
      created_at: trx.fn.now(),
      updated_at: trx.fn.now(),
    })
    .returning('id');
  return Number(row.id);
}

/** Which of these provenance keys a table already holds (what makes a second restore add nothing). */
export async function existingOldIds(trx: Trx, table: 'submissions' | 'user_cards', oldIds: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < oldIds.length; i += 5000) {
    const rows = await trx(`public.${table}`).whereIn('old_id', oldIds.slice(i, i + 5000)).select('old_id');
    rows.forEach((r: { old_id: string }) => out.add(r.old_id));
  }
  return out;
}

/**
 * Posts as TOYBOX's submit path writes them (lottery/services.py defaults),
 * except: status PRIVATE until the owner publishes, and the original time.
 * updated_at is now (Django's auto_now), which also keeps them out of "new".
 */
export async function insertSubmissions(trx: Trx, rows: RestoredSubmission[]): Promise<Array<{ id: number; old_id: string }>> {
  const out: Array<{ id: number; old_id: string }> = [];
  for (let i = 0; i < rows.length; i += 1000) {
    const inserted = await trx('public.submissions')
      .insert(
        rows.slice(i, i + 1000).map((s) => ({
          author_id: s.author_id,
          image: null,
          thumbnail: null,
          title: s.title,
          caption: s.caption,
          hashtags: JSON.stringify(s.hashtags),
          comment_enabled: true,
          status: 'PRIVATE',
          deleted_at: null,
          delete_reason: null,
          aim: '画像提出',
          steps: JSON.stringify(['準備', '実行', '完了']),
          frame_type: 'none',
          image_url: s.image_url,
          video_url: s.video_url,
          game_url: s.game_url,
          jp_result: 'none',
          likes_count: 0,
          old_id: s.old_id,
          spell: s.spell,
          ai_tool: s.ai_tool,
          created_at: s.created_at,
          updated_at: trx.fn.now(),
        })),
      )
      .returning(['id', 'old_id']);
    out.push(...inserted.map((r: { id: string; old_id: string }) => ({ id: Number(r.id), old_id: r.old_id })));
  }
  return out;
}

/** The current master cards by code (old card ids mean nothing after the wipe; codes do). */
export async function cardIdsByCode(trx: Trx, codes: string[]): Promise<Map<string, number>> {
  if (!codes.length) return new Map();
  const rows = await trx('public.cards').whereIn('code', [...new Set(codes)]).orderBy('id').select('id', 'code');
  const out = new Map<string, number>();
  for (const r of rows as Array<{ id: string; code: string }>) if (!out.has(r.code)) out.set(r.code, Number(r.id));
  return out;
}

export async function insertUserCards(trx: Trx, rows: Array<{ user_id: number; card_id: number; old_id: string; obtained_at: Date }>): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < rows.length; i += 2000) {
    const inserted = await trx('public.user_cards').insert(rows.slice(i, i + 2000)).returning('id');
    ids.push(...inserted.map((r: { id: string }) => Number(r.id)));
  }
  return ids;
}

/** Sets one allowed column of the person's row (users.avatar_url, user_meta.header_url, ...). */
export async function setColumn(trx: Trx, table: 'users' | 'user_meta', id: number, column: string, value: unknown): Promise<void> {
  if (!RESTORABLE_COLUMNS[table]?.includes(column)) throw new Error(`not a restorable column: ${table}.${column}`);
  await trx(`public.${table}`).where({ id }).update({ [column]: value, updated_at: trx.fn.now() });
}

/** Puts a column back only if it still holds what the restore wrote (a later change by the person wins). */
export async function resetColumnIfUnchanged(trx: Trx, table: 'users' | 'user_meta', id: number, column: string, restored: unknown, before: unknown): Promise<boolean> {
  if (!RESTORABLE_COLUMNS[table]?.includes(column)) throw new Error(`not a restorable column: ${table}.${column}`);
  const n = await trx(`public.${table}`).where({ id, [column]: restored }).update({ [column]: before, updated_at: trx.fn.now() });
  return n > 0;
}

/** Removes rows a restore added (the caller goes children first; FKs are checked at COMMIT). */
export async function deleteRows(trx: Trx, table: RestorableTable, ids: number[]): Promise<void> {
  if (!(RESTORABLE_TABLES as readonly string[]).includes(table)) throw new Error(`not a restorable table: ${table}`);
  for (let i = 0; i < ids.length; i += 5000) await trx(`public.${table}`).whereIn('id', ids.slice(i, i + 5000)).delete();
}

/** New post ids by provenance key. */
export async function submissionIdsByOldId(trx: Trx, oldIds: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < oldIds.length; i += 5000) {
    const rows = await trx('public.submissions').whereIn('old_id', oldIds.slice(i, i + 5000)).select('id', 'old_id');
    rows.forEach((r: { id: string; old_id: string }) => out.set(r.old_id, Number(r.id)));
  }
  return out;
}

/** Reactions as rows only (no notification, no points: those are TOYBOX's view code, not the table); an existing one is kept. */
export async function insertReactions(trx: Trx, rows: Array<{ user_id: number; submission_id: number; type: string; created_at: Date }>): Promise<number[]> {
  if (!rows.length) return [];
  const inserted = await trx('public.reactions').insert(rows).onConflict(['user_id', 'submission_id', 'type']).ignore().returning('id');
  return inserted.map((r: { id: string }) => Number(r.id));
}

export async function insertFollows(trx: Trx, rows: Array<{ follower_id: number; following_id: number; created_at: Date }>): Promise<number[]> {
  if (!rows.length) return [];
  const inserted = await trx('public.user_follows').insert(rows).onConflict(['follower_id', 'following_id']).ignore().returning('id');
  return inserted.map((r: { id: string }) => Number(r.id));
}

/** Reactions on these posts, restricted to the given ids (those some restore added). */
export async function reactionIdsOn(trx: Trx, submissionIds: number[]): Promise<number[]> {
  if (!submissionIds.length) return [];
  const rows = await trx('public.reactions').whereIn('submission_id', submissionIds).select('id');
  return rows.map((r: { id: string }) => Number(r.id));
}

/** Accounts already holding this display id (compared as TOYBOX's login does, and case-folded, to never hand one out twice). */
export async function displayIdTaken(trx: Trx | Knex, displayId: string): Promise<boolean> {
  return Boolean(await trx('public.users').whereRaw('lower(display_id) = lower(?)', [displayId]).first('id'));
}

export async function emailTaken(trx: Trx | Knex, email: string): Promise<boolean> {
  return Boolean(await trx('public.users').whereRaw('lower(email) = lower(?)', [email]).first('id'));
}

export async function userWithOldId(trx: Trx | Knex, oldId: string): Promise<{ id: number; display_id: string; email: string | null } | undefined> {
  const row = await trx('public.users').where({ old_id: oldId }).first('id', 'display_id', 'email');
  return row ? { ...row, id: Number(row.id) } : undefined;
}

/**
 * An old account that never came back, as TOYBOX's create_user would write it
 * with an unusable password ('!' + 40 random characters, Django's format), its
 * original created_at, provenance in users.old_id and user_meta.old_id.
 */
export async function insertRestoredAccount(trx: Trx, a: { display_id: string; email: string | null; unusable_password: string; old_id: string; created_at: Date; display_name: string; bio: string }): Promise<{ userId: number; metaId: number }> {
  const [user] = await trx('public.users')
    .insert({
      email: a.email,
      display_id: a.display_id,
      password: a.unusable_password,
      role: 'FREE_USER',
      avatar_url: null,
      is_suspended: false,
      warning_count: 0,
      is_active: true,
      is_staff: false,
      is_superuser: false,
      old_id: a.old_id,
      created_at: a.created_at,
      updated_at: trx.fn.now(),
    })
    .returning('id');
  const [meta] = await trx('public.user_meta')
    .insert({
      user_id: user.id,
      bio: a.bio,
      display_name: a.display_name.slice(0, 50),
      header_url: '',
      lottery_bonus_count: 0,
      notifications: JSON.stringify([]),
      onboarding_completed: JSON.stringify({}),
      earned_titles: JSON.stringify([]),
      old_id: a.old_id,
      created_at: a.created_at,
      updated_at: trx.fn.now(),
    })
    .returning('id');
  return { userId: Number(user.id), metaId: Number(meta.id) };
}

/** Sets a password hash (already made by the caller) on an account, as Django's set_password + save would. */
export async function setPasswordHash(trx: Trx, userId: number, encoded: string): Promise<void> {
  await trx('public.users').where({ id: userId }).update({ password: encoded, updated_at: trx.fn.now() });
}

/** The account's avatar and header URLs as TOYBOX stores them. */
export async function currentPictures(trx: Trx, userId: number): Promise<{ avatar_url: string | null; header_url: string | null }> {
  const u = await trx('public.users').where({ id: userId }).first('avatar_url');
  const m = await trx('public.user_meta').where({ user_id: userId }).first('header_url');
  return { avatar_url: u?.avatar_url ?? null, header_url: m?.header_url ?? null };
}

/** Of these primary keys, the rows of `table` that exist today and belong to this person (a live row an archive names). */
export async function ownedLiveIds(trx: Trx | Knex, table: 'submissions' | 'user_cards', ids: number[], userId: number): Promise<Set<number>> {
  const owner = table === 'submissions' ? 'author_id' : 'user_id';
  const out = new Set<number>();
  for (let i = 0; i < ids.length; i += 5000) {
    const rows = await trx(`public.${table}`).whereIn('id', ids.slice(i, i + 5000)).where({ [owner]: userId }).select('id');
    rows.forEach((r: { id: string }) => out.add(Number(r.id)));
  }
  return out;
}
