/**
 * What a personal data export holds: one entry per TOYBOX table marked for
 * export in shared/toybox/ownership.tsv. Column names are TOYBOX's own (see
 * fixtures/toybox-schema.sql). A new TOYBOX table is one new entry here; the
 * archive, CSVs, JSON Schema, counts and offline viewer all follow from it.
 *
 * Left out on purpose: users.password (hash), users.studysphere_login_code
 * (a bearer login credential), users.warning_notes (admin-internal notes),
 * user_meta.discord_access_token / discord_refresh_token (plaintext OAuth
 * secrets), submissions.delete_reason (moderator text), old_id columns
 * (migration bookkeeping), and other users' rows.
 */

import { neutraliseCellSql } from '../files/csv-cell';

export type ColumnType = 'int' | 'num' | 'text' | 'bool' | 'time' | 'json';

export interface Column {
  name: string;
  type: ColumnType;
  nullable: boolean;
  /** SQL expression; `t.<name>` unless the spec says otherwise. */
  expr: string;
}

export interface PersonalDataKind {
  /** Key in data.json, CSV file name, viewer section. */
  kind: string;
  table: string;
  /** SQL expression that must equal the user's id. */
  owner: string;
  /** Extra FROM clauses (aliases other than t). */
  joins?: string;
  columns: Column[];
  /** Output columns that hold media paths or URLs. */
  media: string[];
  /** For summaries (rows per group) rather than the rows themselves; such rows have no global id. */
  groupBy?: string;
  /** The table has TOYBOX's `old_id` column, where a restore records where a row came from. */
  provenance?: boolean;
  orderBy: string;
  label: { ja: string; en: string };
}

/** 'name type[?][ = expr]', e.g. 'email text?' or 'card_code text = c.code'. */
function columns(...specs: string[]): Column[] {
  return specs.map((spec) => {
    const m = /^(\w+) (int|num|text|bool|time|json)(\?)?(?: = (.+))?$/.exec(spec);
    if (!m) throw new Error(`bad column spec: ${spec}`);
    return { name: m[1]!, type: m[2] as ColumnType, nullable: m[3] === '?', expr: m[4] ?? `t.${m[1]}` };
  });
}

export const PERSONAL_DATA: readonly PersonalDataKind[] = [
  {
    kind: 'profile',
    provenance: true,
    table: 'users',
    owner: 't.id',
    columns: columns(
      'id int', 'email text?', 'display_id text', 'role text', 'avatar_url text?', 'studysphere_user_id int?',
      'is_active bool', 'is_suspended bool', 'banned_at time?', 'penalty_type text?', 'penalty_message text?',
      'warning_count int', 'last_login time?', 'created_at time', 'updated_at time',
    ),
    media: ['avatar_url'],
    orderBy: 't.id',
    label: { ja: 'プロフィール', en: 'Profile' },
  },
  {
    kind: 'settings',
    provenance: true,
    table: 'user_meta',
    owner: 't.user_id',
    columns: columns(
      'id int', 'display_name text', 'bio text', 'header_url text?', 'active_title text?', 'title_color text?',
      'expires_at time?', 'earned_titles json', 'notifications json', 'onboarding_completed json',
      'lottery_bonus_count int', 'terms_agreed_at time?', 'discord_user_id text?', 'discord_username text?',
      'created_at time', 'updated_at time',
    ),
    media: ['header_url'],
    orderBy: 't.id',
    label: { ja: 'プロフィール設定', en: 'Profile settings' },
  },
  {
    kind: 'registration',
    table: 'user_registrations',
    owner: 't.user_id',
    columns: columns('id int', 'address text?', 'age_group text?', 'phone text?', 'created_at time', 'updated_at time'),
    media: [],
    orderBy: 't.id',
    label: { ja: '登録情報', en: 'Registration details' },
  },
  {
    kind: 'posts',
    provenance: true,
    table: 'submissions',
    owner: 't.author_id',
    columns: columns(
      'id int', 'title text', 'caption text', 'status text', 'image text?', 'thumbnail text?', 'image_url text?',
      'video_url text?', 'game_url text?', 'hashtags json', 'spell text', 'ai_tool text', 'aim text', 'steps json',
      'frame_type text', 'jp_result text', 'likes_count int', 'comment_enabled bool', 'deleted_at time?',
      'created_at time', 'updated_at time',
    ),
    media: ['image', 'thumbnail', 'image_url', 'video_url', 'game_url'],
    orderBy: 't.id',
    label: { ja: '投稿', en: 'Posts' },
  },
  {
    kind: 'cards',
    provenance: true,
    table: 'user_cards',
    owner: 't.user_id',
    joins: 'JOIN public.cards c ON c.id = t.card_id',
    columns: columns(
      'id int', 'card_id int', 'obtained_at time', 'card_code text = c.code', 'card_name text = c.name',
      'card_rarity text = c.rarity', 'card_attribute text? = c.attribute', 'card_type text? = c.card_type',
      'card_atk_points int? = c.atk_points', 'card_def_points int? = c.def_points',
      'card_description text? = c.description', 'card_buff_effect text? = c.buff_effect',
      'card_image text? = c.image', 'card_image_url text? = c.image_url',
    ),
    media: ['card_image', 'card_image_url'],
    orderBy: 't.id',
    label: { ja: 'カード', en: 'Cards' },
  },
  {
    // Each with the post's title, so a person sees what they reacted to (not for someone else's deleted post).
    kind: 'reactions',
    table: 'reactions',
    owner: 't.user_id',
    columns: columns('id int', 'submission_id int', 'submission_title text? = (SELECT s.title FROM public.submissions s WHERE s.id = t.submission_id AND (s.author_id = t.user_id OR s.deleted_at IS NULL))', 'type text', 'created_at time'),
    media: [],
    orderBy: 't.id',
    label: { ja: 'リアクション', en: 'Reactions' },
  },
  {
    // Reactions other users gave to this user's posts: counts only, never who reacted.
    kind: 'reactions_received',
    table: 'submissions',
    owner: 't.author_id',
    joins: 'JOIN public.reactions r ON r.submission_id = t.id',
    columns: columns('submission_id int = t.id', 'type text = r.type', 'count int = count(*)::int'),
    media: [],
    groupBy: 't.id, r.type',
    orderBy: 't.id, r.type',
    label: { ja: '受け取ったリアクション（件数）', en: 'Reactions received (counts)' },
  },
  {
    kind: 'bookmarks',
    table: 'submission_bookmarks',
    owner: 't.user_id',
    columns: columns('id int', 'submission_id int', 'submission_title text? = (SELECT s.title FROM public.submissions s WHERE s.id = t.submission_id AND (s.author_id = t.user_id OR s.deleted_at IS NULL))', 'created_at time'),
    media: [],
    orderBy: 't.id',
    label: { ja: 'ブックマーク', en: 'Bookmarks' },
  },
  {
    kind: 'reposts',
    table: 'submission_reposts',
    owner: 't.user_id',
    columns: columns('id int', 'submission_id int', 'submission_title text? = (SELECT s.title FROM public.submissions s WHERE s.id = t.submission_id AND (s.author_id = t.user_id OR s.deleted_at IS NULL))', 'created_at time'),
    media: [],
    orderBy: 't.id',
    label: { ja: 'リポスト', en: 'Reposts' },
  },
  {
    kind: 'follows',
    table: 'user_follows',
    owner: 't.follower_id',
    joins: 'LEFT JOIN public.users f ON f.id = t.following_id',
    columns: columns('id int', 'following_id int', 'following_display_id text? = f.display_id', 'created_at time'),
    media: [],
    orderBy: 't.id',
    label: { ja: 'フォロー', en: 'Following' },
  },
  {
    kind: 'points',
    table: 'user_points',
    owner: 't.user_id',
    columns: columns('id int', 'total_points int', 'migration_bonus_granted bool', 'created_at time', 'updated_at time'),
    media: [],
    orderBy: 't.id',
    label: { ja: 'ポイント残高', en: 'Point balance' },
  },
  {
    kind: 'point_history',
    table: 'point_history',
    owner: 't.user_id',
    columns: columns('id int', 'action_type text', 'points int', 'description text', 'created_at time'),
    media: [],
    orderBy: 't.id',
    label: { ja: 'ポイント履歴', en: 'Point history' },
  },
  {
    // Earned titles are names inside user_meta.earned_titles / active_title (no foreign key).
    kind: 'titles',
    table: 'titles',
    owner: 'm.user_id',
    joins: 'JOIN public.user_meta m ON (jsonb_exists(m.earned_titles, t.name) OR m.active_title = t.name)',
    columns: columns(
      'id int', 'name text', 'color text?', 'duration_days int', 'image text?', 'image_url text?',
      'is_active_title bool = (m.active_title IS NOT NULL AND m.active_title = t.name)',
    ),
    media: ['image', 'image_url'],
    orderBy: 't.id',
    label: { ja: '称号', en: 'Titles' },
  },
  {
    kind: 'articles',
    table: 'articles',
    owner: 't.author_id',
    columns: columns(
      'id int', 'title text', 'slug text', 'thumbnail text?', 'thumbnail_url text?', 'body json', 'custom_css text',
      'status text', 'published_at time?', 'pt_awarded bool', 'created_at time', 'updated_at time',
    ),
    media: ['thumbnail', 'thumbnail_url'],
    orderBy: 't.id',
    label: { ja: '記事', en: 'Articles' },
  },
  {
    kind: 'article_reactions',
    table: 'article_reactions',
    owner: 't.user_id',
    columns: columns('id int', 'article_id int', 'type text', 'created_at time'),
    media: [],
    orderBy: 't.id',
    label: { ja: '記事へのリアクション', en: 'Article reactions' },
  },
  {
    kind: 'article_media',
    table: 'article_media',
    owner: 't.uploader_id',
    columns: columns('id int', 'file text', 'media_type text', 'original_name text', 'created_at time'),
    media: ['file'],
    orderBy: 't.id',
    label: { ja: '記事のメディア', en: 'Article media' },
  },
  {
    kind: 'jackpot_wins',
    provenance: true,
    table: 'jackpot_wins',
    owner: 't.user_id',
    columns: columns('id int', 'won_at time', 'pinned_until time?', 'submission_id int?'),
    media: [],
    orderBy: 't.id',
    label: { ja: 'ジャックポット当選', en: 'Jackpot wins' },
  },
  {
    kind: 'discord_shares',
    provenance: true,
    table: 'discord_shares',
    owner: 't.user_id',
    columns: columns('id int', 'shared_at time', 'share_channel text', 'message_id text?', 'submission_id int?'),
    media: [],
    orderBy: 't.id',
    label: { ja: 'Discord 共有', en: 'Discord shares' },
  },
  {
    kind: 'sso_links',
    table: 'user_sso_links',
    owner: 't.user_id',
    columns: columns('id int', 'provider text', 'external_user_id text', 'created_at time', 'updated_at time'),
    media: [],
    orderBy: 't.id',
    label: { ja: '外部ログイン連携', en: 'Single sign-on links' },
  },
];

function assertUserId(userId: number): number {
  // Inlined into COPY statements, which take no bind parameters.
  if (!Number.isSafeInteger(userId) || userId < 1) throw new Error(`invalid user id: ${userId}`);
  return userId;
}

function fromWhere(k: PersonalDataKind, userId: number): string {
  const group = k.groupBy ? ` GROUP BY ${k.groupBy}` : '';
  return `FROM public.${k.table} t ${k.joins ?? ''} WHERE ${k.owner} = ${assertUserId(userId)}${group}`;
}

/** The kind's rows with output column names, as data.json holds them. */
export function selectSql(k: PersonalDataKind, userId: number): string {
  const list = k.columns.map((c) => `${c.expr} AS "${c.name}"`).join(', ');
  return `SELECT ${list} ${fromWhere(k, userId)} ORDER BY ${k.orderBy}`;
}

/** A SQL string literal (COPY takes no bind parameters). */
function sqlLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('NUL in SQL literal');
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The row's stable global id, built by PostgreSQL on the way out:
 * `toybox:<site host>:<era>:<table>:<id>`. Era `new`: made on the live site
 * since the incident, id = its primary key. Era `restored`: written back by a
 * restore, id = the `old_id` it recorded (its pre-incident id, ':' and '%'
 * percent-encoded); an `old_id` that is already a global id (restored from an
 * archive) is kept as it is, so the id survives any number of round trips.
 * Readers split on the last three colons (a host may carry a port).
 */
export function globalIdSql(k: PersonalDataKind, siteHost: string): string | null {
  if (k.groupBy) return null;
  const prefix = (era: string) => sqlLiteral(`toybox:${siteHost}:${era}:${k.table}:`);
  if (!k.provenance) return `${prefix('new')} || t.id`;
  return (
    `CASE WHEN t.old_id IS NULL OR t.old_id = '' THEN ${prefix('new')} || t.id ` +
    `WHEN t.old_id LIKE 'toybox:%' THEN t.old_id ` +
    `ELSE ${prefix('restored')} || replace(replace(t.old_id, '%', '%25'), ':', '%3A') END`
  );
}

/**
 * One JSON object per line. CSV format with quote and delimiter bytes that
 * row_to_json always escapes means PostgreSQL emits the JSON unaltered.
 * With `siteHost`, each row starts with its `global_id` (see globalIdSql).
 */
export function jsonLinesCopySql(k: PersonalDataKind, userId: number, siteHost?: string): string {
  const gid = siteHost ? globalIdSql(k, siteHost) : null;
  const select = gid ? selectSql(k, userId).replace(/^SELECT /, `SELECT ${gid} AS "global_id", `) : selectSql(k, userId);
  return `COPY (SELECT row_to_json(r) FROM (${select}) r) TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')`;
}

/**
 * CSV text of a value, chosen to read back as data.json writes it, except
 * that text which a spreadsheet would run as a formula gets a leading
 * apostrophe (src/files/csv-cell). Only text columns can start that way:
 * numbers, booleans, ISO times and jsonb's normalised text cannot (a jsonb
 * number such as -5 is read as the number it is).
 */
function csvExpr(c: Column): string {
  if (c.type === 'time') return `to_json(${c.expr}) #>> '{}'`;
  if (c.type === 'json' || c.type === 'bool') return `(${c.expr})::text`;
  if (c.type === 'text') return neutraliseCellSql(c.expr);
  return c.expr;
}

/** PostgreSQL's own CSV writer does the RFC 4180 quoting (line ends are made CRLF afterwards). */
export function csvCopySql(k: PersonalDataKind, userId: number): string {
  const list = k.columns.map((c) => `${csvExpr(c)} AS "${c.name}"`).join(', ');
  return `COPY (SELECT ${list} ${fromWhere(k, userId)} ORDER BY ${k.orderBy}) TO STDOUT WITH (FORMAT csv, HEADER true)`;
}

/** Row counts of every kind for one user, in one round trip. */
export function countsSql(userId: number): string {
  const parts = PERSONAL_DATA.map((k) =>
    k.groupBy
      ? `(SELECT count(*) FROM (SELECT 1 ${fromWhere(k, userId)}) g)::bigint AS "${k.kind}"`
      : `(SELECT count(*) ${fromWhere(k, userId)})::bigint AS "${k.kind}"`,
  );
  return `SELECT ${parts.join(', ')}`;
}

/** Every distinct media path or URL the user's rows reference. */
export function mediaValuesSql(userId: number): string {
  const parts = PERSONAL_DATA.filter((k) => k.media.length > 0).map((k) => {
    const exprs = k.media.map((name) => k.columns.find((c) => c.name === name)!.expr);
    return `SELECT unnest(ARRAY[${exprs.map((e) => `${e}::text`).join(', ')}]) AS v ${fromWhere(k, userId)}`;
  });
  return `SELECT DISTINCT (v COLLATE "C") AS v FROM (${parts.join(' UNION ALL ')}) x WHERE v IS NOT NULL AND v <> '' ORDER BY 1`;
}

export function findKind(kind: string): PersonalDataKind | undefined {
  return PERSONAL_DATA.find((k) => k.kind === kind);
}
