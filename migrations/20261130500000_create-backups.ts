import type { Knex } from 'knex';

// One row per database or media backup: where its files are, what they hashed to,
// the row counts of its snapshot, and what became of it (good, suspect, bad, pruned).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.backups (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('database', 'media')),
      status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'good', 'suspect', 'bad', 'failed', 'pruned')),
      trigger text NOT NULL DEFAULT 'cli',
      scheduled_for timestamptz,
      started_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      dir text,
      files jsonb NOT NULL DEFAULT '[]'::jsonb,
      total_bytes bigint NOT NULL DEFAULT 0,
      row_counts jsonb,
      manifest jsonb,
      error text,
      suspect_reasons jsonb,
      acknowledged_at timestamptz,
      acknowledged_by text,
      verified_at timestamptz,
      offhost_exit_code integer,
      offhost_at timestamptz,
      offhost_output text,
      pruned_at timestamptz
    );
    CREATE UNIQUE INDEX IF NOT EXISTS backups_slot_idx ON portal.backups (kind, scheduled_for) WHERE scheduled_for IS NOT NULL;
    CREATE INDEX IF NOT EXISTS backups_kind_started_idx ON portal.backups (kind, started_at DESC);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.backups CASCADE');
}
