import type { Knex } from 'knex';

// Operator alerts: at most one open row per condition, so each condition mails once
// when it starts and once when it clears, however many instances evaluate it.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.alerts (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      condition text NOT NULL,
      details jsonb NOT NULL DEFAULT '{}'::jsonb,
      raised_at timestamptz NOT NULL DEFAULT now(),
      cleared_at timestamptz,
      notified_recipients integer NOT NULL DEFAULT 0,
      notify_error text
    );
    CREATE UNIQUE INDEX IF NOT EXISTS alerts_open_condition_idx ON portal.alerts (condition) WHERE cleared_at IS NULL;
    CREATE INDEX IF NOT EXISTS alerts_raised_idx ON portal.alerts (raised_at DESC);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.alerts');
}
