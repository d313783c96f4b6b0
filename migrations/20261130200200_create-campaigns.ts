import type { Knex } from 'knex';

// A campaign carries its own template (both languages), its sending settings and the shared rate-limit bucket.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.campaigns (
      id bigserial PRIMARY KEY,
      name text NOT NULL,
      status text NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'scheduled', 'sending', 'paused', 'completed', 'cancelled')),
      subject_ja text NOT NULL,
      text_ja text NOT NULL,
      html_ja text,
      subject_en text,
      text_en text,
      html_en text,
      rate_per_minute integer NOT NULL DEFAULT 60 CHECK (rate_per_minute >= 0),
      concurrency integer NOT NULL DEFAULT 2 CHECK (concurrency BETWEEN 1 AND 50),
      max_attempts integer NOT NULL DEFAULT 5,
      pause_after_failures integer NOT NULL DEFAULT 10,
      consecutive_failures integer NOT NULL DEFAULT 0,
      pause_reason text,
      scheduled_at timestamptz,
      bucket_tokens double precision NOT NULL DEFAULT 0,
      bucket_at timestamptz NOT NULL DEFAULT now(),
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.campaigns');
}
