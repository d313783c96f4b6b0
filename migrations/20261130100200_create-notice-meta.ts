import type { Knex } from 'knex';

// One row (id = 1) holding the global notice version every instance compares
// against; bumped with an upsert so no seed row is needed.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.notice_meta (
      id integer PRIMARY KEY CHECK (id = 1),
      version bigint NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.notice_meta');
}
