import type { Knex } from 'knex';

// One row per catalogued file name: what TOYBOX's naming says about it (kind, old user id,
// display id, upload second), which blob it holds, and size+mtime so a re-run skips unchanged files.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.salvage_files (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      source_id bigint NOT NULL REFERENCES portal.salvage_sources (id),
      rel_path text NOT NULL,
      size bigint NOT NULL,
      mtime_ms bigint NOT NULL,
      sha256 text NOT NULL REFERENCES portal.salvage_blobs (sha256),
      kind text NOT NULL,
      era text NOT NULL CHECK (era IN ('old', 'new')),
      era_basis text NOT NULL CHECK (era_basis IN ('option', 'name', 'mtime')),
      old_user_id integer,
      display_id text,
      uploaded_at timestamptz,
      stem text,
      original_stem text,
      original_path text,
      game_folder text,
      catalogued_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (source_id, rel_path)
    );
    CREATE INDEX IF NOT EXISTS salvage_files_stem_idx ON portal.salvage_files (source_id, stem) WHERE stem IS NOT NULL;
    CREATE INDEX IF NOT EXISTS salvage_files_sha_idx ON portal.salvage_files (sha256);
    CREATE INDEX IF NOT EXISTS salvage_files_user_idx ON portal.salvage_files (old_user_id) WHERE old_user_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS salvage_files_display_idx ON portal.salvage_files (display_id) WHERE display_id IS NOT NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.salvage_files CASCADE');
}
