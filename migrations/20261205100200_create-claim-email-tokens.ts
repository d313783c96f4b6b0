import type { Knex } from 'knex';

// Links sent to an address a person says is theirs: the token is stored hashed, expires,
// and is used once; confirmed_at marks the address as proven for that user.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.claim_email_tokens (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      user_id bigint NOT NULL,
      email text NOT NULL,
      token_hash text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      confirmed_at timestamptz
    );
    CREATE INDEX IF NOT EXISTS claim_email_tokens_user_idx ON portal.claim_email_tokens (user_id, created_at DESC);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.claim_email_tokens');
}
