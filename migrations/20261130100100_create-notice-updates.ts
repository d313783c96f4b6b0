import type { Knex } from 'knex';

// The dated timeline of each notice: what the status page and the Atom feed show.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.notice_updates (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      notice_id bigint NOT NULL REFERENCES portal.notices (id) ON DELETE CASCADE,
      at timestamptz NOT NULL DEFAULT now(),
      state text NOT NULL,
      body_ja text NOT NULL,
      body_en text NOT NULL DEFAULT '',
      actor text NOT NULL
    );
    CREATE INDEX IF NOT EXISTS notice_updates_notice_idx ON portal.notice_updates (notice_id, at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.notice_updates');
}
