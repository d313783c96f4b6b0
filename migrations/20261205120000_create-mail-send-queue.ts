import type { Knex } from 'knex';

// Transactional e-mails (one message per `ref`, the sender's own row) sent from a queue job exactly as
// campaigns send: claimed as 'sending' with a fixed Message-ID and the claiming process before SMTP,
// 'sent' the moment the server says 250 (docs/design/exactly-once.md).
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.mail_send_queue (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      email text NOT NULL,
      ref text NOT NULL UNIQUE,
      to_email text NOT NULL,
      email_key text NOT NULL,
      lang text NOT NULL,
      status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'suppressed')),
      attempts integer NOT NULL DEFAULT 0,
      owner text,
      message_id text,
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      claimed_at timestamptz,
      sent_at timestamptz
    );
    CREATE INDEX IF NOT EXISTS mail_send_queue_open_idx ON portal.mail_send_queue (status) WHERE status IN ('queued', 'sending');
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.mail_send_queue');
}
