import type { Knex } from 'knex';

// People who asked for incident updates by e-mail (double opt-in). The confirmation link is an HMAC over
// (id, confirm_nonce): the nonce alone grants nothing, and a new request replaces it.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.notice_subscribers (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      email text NOT NULL,
      email_key text NOT NULL UNIQUE,
      lang text NOT NULL CHECK (lang IN ('ja', 'en')),
      confirm_nonce text,
      confirm_expires_at timestamptz,
      confirmed_at timestamptz,
      unsubscribed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.notice_subscribers');
}
