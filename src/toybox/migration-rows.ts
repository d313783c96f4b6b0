import pg from 'pg';

/**
 * What TOYBOX's own data migrations write into a freshly migrated, empty
 * database (NOTES.md: 2 announcements and 19 titles, besides Django's content
 * types and permissions). Facts read from TOYBOX's migrations:
 * - frontend 0004/0008 create the release notes "TOYBOX! Ver 2.23/2.24 アップデートのお知らせ"
 *   (no author: created_by_id NULL); later releases add more of the same form;
 * - users 0016 creates the starter title, gamification 0006/0007 the 18 reaction titles.
 */
export const MIGRATION_TITLES: readonly string[] = [
  '駆け出しクリエイター',
  'きれいの使い手', 'エモの伝え手', '神ゲー見習い',
  '輝きの職人', '心を揺らす者', '神ゲーの証人',
  '美の達人', 'エモの巨匠', '神ゲーの王者',
  '美の化身', 'エモの神託', '神ゲーの覇者',
  'きらめきの伝説', 'エモの伝説', '神ゲーの神話',
  'きらめきの極星', 'エモの星雲', '神ゲーの宇宙',
];

/** The release-note announcements the migrations write (PostgreSQL regular expression). */
export const MIGRATION_ANNOUNCEMENT_TITLE = '^TOYBOX! Ver [0-9]+\\.[0-9]+ アップデートのお知らせ$';

/** Tables Django's `migrate` itself fills (bookkeeping): rows there never mean real data. */
export const DJANGO_BOOKKEEPING_TABLES: readonly string[] = ['django_migrations', 'django_content_type', 'auth_permission'];

/**
 * Per table, how many rows in the database at `url` are ones TOYBOX's
 * migrations write (announcements and titles only; bookkeeping tables are
 * listed separately). A table absent from the result has none.
 */
export async function countMigrationRowsAt(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const exists = await client.query<{ t: string }>(
      "SELECT c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname IN ('announcements', 'titles')",
    );
    const have = new Set(exists.rows.map((r) => r.t));
    const out: Record<string, number> = {};
    if (have.has('announcements')) {
      const r = await client.query<{ n: string }>('SELECT count(*) AS n FROM public.announcements WHERE created_by_id IS NULL AND title ~ $1', [MIGRATION_ANNOUNCEMENT_TITLE]);
      out.announcements = Number(r.rows[0]!.n);
    }
    if (have.has('titles')) {
      const r = await client.query<{ n: string }>('SELECT count(*) AS n FROM public.titles WHERE name = ANY($1)', [MIGRATION_TITLES]);
      out.titles = Number(r.rows[0]!.n);
    }
    return out;
  } finally {
    await client.end();
  }
}
