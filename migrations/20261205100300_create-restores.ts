import type { Knex } from 'knex';

// One row per restore a person (or staff) ran: what it added, until when it can be undone.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.restores (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      user_id bigint NOT NULL,
      claim_id bigint NOT NULL REFERENCES portal.claims (id),
      old_user_id integer NOT NULL,
      status text NOT NULL DEFAULT 'done' CHECK (status IN ('done', 'undone')),
      summary jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      undo_until timestamptz NOT NULL,
      undone_at timestamptz
    );
    CREATE INDEX IF NOT EXISTS restores_user_idx ON portal.restores (user_id, created_at DESC);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.restores CASCADE');
}
