import type { Knex } from 'knex';

// One row per thing `salvage` has read: an uploads tree, a dump or data directory
// (loaded into its own schema salvage_<id>), a log file, a Discord export.
// `status` stays 'running' only while a run holds the source's advisory lock.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.salvage_sources (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('media', 'database', 'logs', 'discord')),
      locator text NOT NULL,
      fingerprint text NOT NULL,
      status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'complete', 'failed')),
      schema_name text,
      details jsonb NOT NULL DEFAULT '{}'::jsonb,
      warnings jsonb NOT NULL DEFAULT '[]'::jsonb,
      error text,
      started_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz
    );
    CREATE UNIQUE INDEX IF NOT EXISTS salvage_sources_identity_idx ON portal.salvage_sources (kind, fingerprint);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.salvage_sources CASCADE');
}
