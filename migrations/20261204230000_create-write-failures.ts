import type { Knex } from 'knex';

// Failed file writes (disk full, read-only, I/O error), recorded by the shared file
// helpers' callers so every instance's alert check sees them (see src/files/write-failures.ts).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.write_failures (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      area text NOT NULL,
      path text NOT NULL,
      code text NOT NULL,
      message text NOT NULL,
      at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX IF NOT EXISTS write_failures_area_at_idx ON portal.write_failures (area, at DESC);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.write_failures');
}
