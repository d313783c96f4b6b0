import type { Knex } from 'knex';

// Outbound send rate shared by every instance: a token bucket per name, refilled by elapsed time
// (src/mail/send-rate.ts), locked for the instant a sender takes tokens.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.mail_rate_buckets (
      name text PRIMARY KEY,
      tokens double precision NOT NULL,
      at timestamptz NOT NULL DEFAULT clock_timestamp()
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.mail_rate_buckets');
}
