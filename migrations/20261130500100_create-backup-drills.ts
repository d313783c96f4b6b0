import type { Knex } from 'knex';

// The result of each restore drill: a backup that was never restored is not a backup.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.backup_drills (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      backup_id bigint NOT NULL REFERENCES portal.backups (id) ON DELETE CASCADE,
      started_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      ok boolean,
      checksum_ok boolean,
      scratch text,
      expected jsonb,
      actual jsonb,
      mismatches jsonb NOT NULL DEFAULT '[]'::jsonb,
      error text
    );
    CREATE INDEX IF NOT EXISTS backup_drills_started_idx ON portal.backup_drills (started_at DESC);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.backup_drills');
}
