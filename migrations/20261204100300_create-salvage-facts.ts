import type { Knex } from 'knex';

// One row per fact read from a log line or a Discord message, with where it came from
// (line number or message id), so reading the same source again adds nothing.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.salvage_facts (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      source_id bigint NOT NULL REFERENCES portal.salvage_sources (id),
      ref text NOT NULL,
      kind text NOT NULL,
      old_user_id integer,
      display_id text,
      display_name text,
      occurred_at timestamptz,
      file_name text,
      sha256 text,
      details jsonb NOT NULL DEFAULT '{}'::jsonb,
      source_line text NOT NULL,
      UNIQUE (source_id, ref, kind)
    );
    CREATE INDEX IF NOT EXISTS salvage_facts_user_idx ON portal.salvage_facts (old_user_id) WHERE old_user_id IS NOT NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.salvage_facts CASCADE');
}
