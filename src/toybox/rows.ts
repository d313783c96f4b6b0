import type { Knex } from 'knex';

/**
 * Row builders for TOYBOX's tables with the defaults Django's models give the
 * NOT NULL columns. Used by `seed-demo` and by the tests' factories, so both
 * write rows exactly as the Django app would.
 */
type Db = Knex | Knex.Transaction;

export interface NewUser {
  email: string | null;
  display_id: string;
  password: string;
  role?: string;
  is_staff?: boolean;
  is_superuser?: boolean;
  is_active?: boolean;
  is_suspended?: boolean;
  avatar_url?: string | null;
}

export async function insertUserRow(db: Db, u: NewUser): Promise<number> {
  const [row] = await db('public.users')
    .insert({
      email: u.email,
      display_id: u.display_id,
      password: u.password,
      role: u.role ?? (u.is_superuser ? 'SUPERUSER' : 'FREE_USER'),
      avatar_url: u.avatar_url ?? null,
      is_suspended: u.is_suspended ?? false,
      warning_count: 0,
      is_active: u.is_active ?? true,
      is_staff: u.is_staff ?? false,
      is_superuser: u.is_superuser ?? false,
      created_at: db.fn.now(),
      updated_at: db.fn.now(),
    })
    .returning('id');
  return Number(row.id);
}

/**
 * The profile row TOYBOX's app creates with get_or_create on first use. header_url: the model's URLField
 * has blank=True and no default, so Django writes '' (the column accepts NULL, but Django never writes one).
 */
export async function insertUserMetaRow(db: Db, userId: number, displayName = ''): Promise<void> {
  await db('public.user_meta').insert({
    user_id: userId,
    bio: '',
    display_name: displayName,
    header_url: '',
    lottery_bonus_count: 0,
    notifications: JSON.stringify([]),
    onboarding_completed: JSON.stringify({}),
    earned_titles: JSON.stringify([]),
    created_at: db.fn.now(),
    updated_at: db.fn.now(),
  });
}

export interface NewSubmission {
  author_id: number;
  title: string;
  caption?: string;
  image?: string | null;
  image_url?: string | null;
  thumbnail?: string | null;
  hashtags?: string[];
  created_at?: Date;
  /** TOYBOX's own values (models.py choices): a post people see is PUBLIC. */
  status?: SubmissionStatus;
}

/** `submissions.status` as TOYBOX's Django model writes it; anything else is a row TOYBOX cannot show. */
export const SUBMISSION_STATUSES = ['PUBLIC', 'PRIVATE', 'FLAGGED'] as const;
export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];

export async function insertSubmissionRow(db: Db, s: NewSubmission): Promise<number> {
  const [row] = await db('public.submissions')
    .insert({
      author_id: s.author_id,
      title: s.title.slice(0, 20),
      caption: s.caption ?? '',
      image: s.image ?? null,
      image_url: s.image_url ?? null,
      thumbnail: s.thumbnail ?? null,
      comment_enabled: true,
      status: s.status ?? 'PUBLIC',
      aim: '',
      steps: JSON.stringify([]),
      frame_type: 'none',
      jp_result: '',
      likes_count: 0,
      hashtags: JSON.stringify(s.hashtags ?? []),
      spell: '',
      ai_tool: '',
      created_at: s.created_at ?? db.fn.now(),
      updated_at: s.created_at ?? db.fn.now(),
    })
    .returning('id');
  return Number(row.id);
}

export async function insertCardRow(db: Db, c: { code: string; name: string; rarity: string; image?: string | null }): Promise<number> {
  const [row] = await db('public.cards')
    .insert({ ...c, image: c.image ?? null, created_at: db.fn.now(), updated_at: db.fn.now() })
    .returning('id');
  return Number(row.id);
}

export async function insertUserCardRow(db: Db, userId: number, cardId: number): Promise<void> {
  await db('public.user_cards').insert({ user_id: userId, card_id: cardId, obtained_at: db.fn.now() });
}

export async function insertReactionRow(db: Db, userId: number, submissionId: number, type: string): Promise<void> {
  await db('public.reactions').insert({ user_id: userId, submission_id: submissionId, type, created_at: db.fn.now() });
}

export async function insertPointsRows(db: Db, userId: number, total: number): Promise<void> {
  await db('public.user_points').insert({ user_id: userId, total_points: total, migration_bonus_granted: false, created_at: db.fn.now(), updated_at: db.fn.now() });
  await db('public.point_history').insert({ user_id: userId, action_type: 'demo', points: total, description: 'demo', created_at: db.fn.now() });
}
