import type { Knex } from 'knex';

// A person's own export archive, verified (this site's signature, this person) and kept privately
// (stored_path under DATA_DIR, 0600) as the source of what it can restore. One per (person, archive bytes).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.claim_archives (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      user_id bigint NOT NULL,
      sha256 text NOT NULL,
      size bigint NOT NULL,
      upload_name text NOT NULL,
      stored_path text NOT NULL,
      key_id text NOT NULL,
      exported_at text NOT NULL,
      subject jsonb NOT NULL,
      proof text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (user_id, sha256)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.claim_archives CASCADE');
}
