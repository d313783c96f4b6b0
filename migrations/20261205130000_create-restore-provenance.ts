import type { Knex } from 'knex';

// Where a restored row of a TOYBOX table without an old_id column (articles, article_media) came from:
// the provenance a restore checks before inserting (never a column added to TOYBOX's tables).
// A row counts as restored while it exists in TOYBOX; undo deletes the row, and the key is free again.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.restore_provenance (
      restore_id bigint NOT NULL REFERENCES portal.restores(id),
      table_name text NOT NULL,
      row_id bigint NOT NULL,
      old_key text NOT NULL,
      PRIMARY KEY (table_name, row_id)
    );
    CREATE INDEX IF NOT EXISTS restore_provenance_key_idx ON portal.restore_provenance (table_name, old_key);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.restore_provenance');
}
