import type { Knex } from 'knex';

// "Last seen" facts that hot paths count in memory and flush: where the banner was loaded from
// (Origin of /banner.js and /api/notice), when /metrics was last scraped. One row per (kind, key).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.sightings (
      kind text NOT NULL,
      key text NOT NULL,
      first_seen timestamptz NOT NULL,
      last_seen timestamptz NOT NULL,
      hits bigint NOT NULL DEFAULT 0,
      PRIMARY KEY (kind, key)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.sightings');
}
