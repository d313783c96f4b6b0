import type { Knex } from 'knex';

// Every write a restore made into TOYBOX's tables and media directory, in order, so that
// undo removes exactly that (children first) and puts back overwritten values.
// op: insert (row_id added), update (column set; `before` holds the old value), file (copied file).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.restore_writes (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      restore_id bigint NOT NULL REFERENCES portal.restores (id),
      op text NOT NULL CHECK (op IN ('insert', 'update', 'file')),
      table_name text,
      row_id bigint,
      column_name text,
      before jsonb,
      after jsonb,
      file_path text,
      sha256 text
    );
    CREATE INDEX IF NOT EXISTS restore_writes_restore_idx ON portal.restore_writes (restore_id, id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.restore_writes');
}
