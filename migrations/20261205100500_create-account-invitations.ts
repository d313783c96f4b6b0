import type { Knex } from 'knex';

// Old accounts staff brought back for people who never re-registered: a one-time link
// (stored hashed) lets the owner set a password. sent_at makes the e-mail go out once.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.account_invitations (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      user_id bigint NOT NULL,
      old_user_id integer NOT NULL,
      email text NOT NULL,
      token_hash text NOT NULL UNIQUE,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      sent_at timestamptz,
      used_at timestamptz
    );
    CREATE INDEX IF NOT EXISTS account_invitations_user_idx ON portal.account_invitations (user_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.account_invitations');
}
