import type { Knex } from 'knex';

// One row per (TOYBOX user, old user id) claim. `level` is the strongest proof so far
// (RECOVERY.md §3: 1 strongest .. 6 weakest). An old id is granted to one person only:
// at most one approved claim per old_user_id (the partial unique index).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.claims (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      user_id bigint NOT NULL,
      old_user_id integer NOT NULL,
      old_display_id text,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
      level smallint NOT NULL CHECK (level BETWEEN 1 AND 6),
      contested boolean NOT NULL DEFAULT false,
      decided_by text,
      decided_at timestamptz,
      reason text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (user_id, old_user_id)
    );
    CREATE UNIQUE INDEX IF NOT EXISTS claims_one_grant_idx ON portal.claims (old_user_id) WHERE status = 'approved';
    CREATE INDEX IF NOT EXISTS claims_queue_idx ON portal.claims (status, created_at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.claims CASCADE');
}
