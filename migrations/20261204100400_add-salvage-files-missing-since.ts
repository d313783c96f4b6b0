import type { Knex } from 'knex';

// A catalogued file that a later run no longer finds keeps its row (it is evidence) and gets the time it went missing.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE portal.salvage_files ADD COLUMN IF NOT EXISTS missing_since timestamptz');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE portal.salvage_files DROP COLUMN IF EXISTS missing_since');
}
