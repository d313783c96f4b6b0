import type { Knex } from 'knex';

// Checklist items the portal cannot know (the provider's disk check, VPS snapshots, ...),
// ticked by hand: who and when. Unticking deletes the row; both are in the audit log.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.recovery_ticks (
      item text PRIMARY KEY,
      ticked_by text NOT NULL,
      ticked_at timestamptz NOT NULL DEFAULT now(),
      note text
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.recovery_ticks');
}
