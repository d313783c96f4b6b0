import type { Knex } from 'knex';

// A failed write is cleared by the next successful write of its area (src/files/write-failures.ts),
// so the write_failed:<area> alert ends when the area works again, not an hour later.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE portal.write_failures ADD COLUMN IF NOT EXISTS cleared_at timestamptz');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE portal.write_failures DROP COLUMN IF EXISTS cleared_at');
}
