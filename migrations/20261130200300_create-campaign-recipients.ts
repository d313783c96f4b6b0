import type { Knex } from 'knex';

/*
 * The transactional outbox: one row per (campaign, address). Workers claim
 * queued rows with FOR UPDATE SKIP LOCKED, commit 'sending' with a lease
 * before talking SMTP and commit 'sent' right after the server's 250.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.campaign_recipients (
      id bigserial PRIMARY KEY,
      campaign_id bigint NOT NULL REFERENCES portal.campaigns (id) ON DELETE CASCADE,
      address_id bigint REFERENCES portal.addresses (id) ON DELETE SET NULL,
      email text NOT NULL,
      email_key text NOT NULL,
      display_id text,
      name text,
      lang text NOT NULL DEFAULT 'ja',
      status text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'skipped')),
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      lease_until timestamptz,
      worker text,
      message_id text,
      last_error text,
      skip_reason text,
      sent_at timestamptz,
      clicked_at timestamptz,
      unsubscribed_at timestamptz,
      soft_bounces integer NOT NULL DEFAULT 0,
      hard_bounced_at timestamptz,
      UNIQUE (campaign_id, email_key)
    );
    CREATE INDEX IF NOT EXISTS campaign_recipients_claim_idx
      ON portal.campaign_recipients (campaign_id, next_attempt_at, id) WHERE status = 'queued';
    CREATE INDEX IF NOT EXISTS campaign_recipients_sending_idx
      ON portal.campaign_recipients (campaign_id, lease_until) WHERE status = 'sending';
    CREATE INDEX IF NOT EXISTS campaign_recipients_email_idx ON portal.campaign_recipients (email_key);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.campaign_recipients');
}
