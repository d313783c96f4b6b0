import type { Knex } from 'knex';

// A restore comes from an approved claim on an old id, or from the person's own verified archive.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE portal.restores
      ALTER COLUMN claim_id DROP NOT NULL,
      ALTER COLUMN old_user_id DROP NOT NULL,
      ADD COLUMN IF NOT EXISTS archive_id bigint REFERENCES portal.claim_archives (id),
      ADD CONSTRAINT restores_source_check CHECK ((claim_id IS NOT NULL AND old_user_id IS NOT NULL) OR archive_id IS NOT NULL);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE portal.restores DROP CONSTRAINT IF EXISTS restores_source_check, DROP COLUMN IF EXISTS archive_id;
  `);
}
