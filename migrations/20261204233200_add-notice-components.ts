import type { Knex } from 'knex';

// The parts of TOYBOX a notice affects (site, sign-in, uploads, cards, portal), for the status page's component list.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE portal.notices ADD COLUMN IF NOT EXISTS components text[] NOT NULL DEFAULT '{}'`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE portal.notices DROP COLUMN IF EXISTS components');
}
