import type { Knex } from 'knex';

// Who claimed a status e-mail and when (src/jobs/ownership.ts): a delivery left in 'sending' by a process
// that died is told from one still in flight, and surfaced (never sent again; see docs/design/exactly-once.md).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE portal.notice_deliveries ADD COLUMN IF NOT EXISTS owner text;
    ALTER TABLE portal.notice_deliveries ADD COLUMN IF NOT EXISTS claimed_at timestamptz;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE portal.notice_deliveries DROP COLUMN IF EXISTS owner, DROP COLUMN IF EXISTS claimed_at');
}
