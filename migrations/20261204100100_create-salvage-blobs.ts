import type { Knex } from 'knex';

// One row per distinct content (SHA-256): the same bytes under several names are one blob.
// metadata keeps only what is worth keeping from AI tools and EXIF (prompt, seed, tool), never GPS or paths.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.salvage_blobs (
      sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      size bigint NOT NULL,
      phash text,
      width integer,
      height integer,
      format text,
      metadata jsonb,
      warning text,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX IF NOT EXISTS salvage_blobs_phash_idx ON portal.salvage_blobs (phash) WHERE phash IS NOT NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.salvage_blobs CASCADE');
}
