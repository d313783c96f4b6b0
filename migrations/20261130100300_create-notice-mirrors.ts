import type { Knex } from 'knex';

// What the optional mirror wrote into TOYBOX's own tables, so turning it off
// removes exactly that: the announcement row it created, and the
// site_maintenance row it created or the values it replaced there.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.notice_mirrors (
      notice_id bigint PRIMARY KEY REFERENCES portal.notices (id) ON DELETE CASCADE,
      announcement_id bigint,
      maintenance_id bigint,
      maintenance_created boolean NOT NULL DEFAULT false,
      maintenance_previous jsonb
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.notice_mirrors');
}
