import type { Knex } from 'knex';

// One row per (subscriber, timeline update): the primary key is what makes each update go to each
// subscriber exactly once, however many workers fan out and however often.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.notice_deliveries (
      subscriber_id bigint NOT NULL REFERENCES portal.notice_subscribers (id) ON DELETE CASCADE,
      update_id bigint NOT NULL REFERENCES portal.notice_updates (id) ON DELETE CASCADE,
      status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'skipped')),
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      sent_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (subscriber_id, update_id)
    );
    CREATE INDEX IF NOT EXISTS notice_deliveries_queued_idx ON portal.notice_deliveries (status) WHERE status = 'queued';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.notice_deliveries');
}
