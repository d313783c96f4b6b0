import type { Knex } from 'knex';

// What a verified archive can restore: one row per post, card or profile value, by its global id,
// with the values (already plain text) and the archive path and SHA-256 of its files.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.claim_archive_items (
      archive_id bigint NOT NULL REFERENCES portal.claim_archives (id) ON DELETE CASCADE,
      global_id text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('post', 'card', 'avatar', 'header', 'display_name', 'bio')),
      position integer NOT NULL,
      item jsonb NOT NULL,
      PRIMARY KEY (archive_id, kind, global_id)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.claim_archive_items');
}
