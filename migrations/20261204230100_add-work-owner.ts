import type { Knex } from 'knex';

// Who runs a job: the instance id of the process (see src/jobs/ownership.ts). A running row whose
// owner is gone is failed or re-queued at once; attempts bounds re-queues of a job that kills its process.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE portal.export_jobs ADD COLUMN IF NOT EXISTS owner text;
    ALTER TABLE portal.export_jobs ADD COLUMN IF NOT EXISTS attempts integer NOT NULL DEFAULT 0;
    ALTER TABLE portal.backups ADD COLUMN IF NOT EXISTS owner text;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE portal.export_jobs DROP COLUMN IF EXISTS owner;
    ALTER TABLE portal.export_jobs DROP COLUMN IF EXISTS attempts;
    ALTER TABLE portal.backups DROP COLUMN IF EXISTS owner;
  `);
}
