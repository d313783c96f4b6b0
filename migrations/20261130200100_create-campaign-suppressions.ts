import type { Knex } from 'knex';

// Addresses that must never be mailed again: unsubscribed, hard-bounced, complained, blocked by an admin.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.suppressions (
      email_key text PRIMARY KEY,
      reason text NOT NULL CHECK (reason IN ('unsubscribed', 'hard_bounce', 'complaint', 'manual')),
      detail text,
      campaign_id bigint,
      created_at timestamptz NOT NULL DEFAULT now()
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.suppressions');
}
