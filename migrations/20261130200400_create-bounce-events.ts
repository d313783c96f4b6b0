import type { Knex } from 'knex';

// Every bounce or complaint received (webhook or DSN import): hard ones also suppress, soft ones are counted.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.bounce_events (
      id bigserial PRIMARY KEY,
      email_key text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('hard', 'soft', 'complaint')),
      status_code text,
      reason text,
      source text NOT NULL,
      dedupe_key text UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now()
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.bounce_events');
}
