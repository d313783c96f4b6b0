import type { Knex } from 'knex';

// One-time /setup tokens. Only the SHA-256 of the token is kept: the secret itself lives in
// DATA_DIR/bootstrap-token and the server log, never in the database.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.bootstrap_tokens (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      token_hash bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      failed_attempts integer NOT NULL DEFAULT 0,
      spent_at timestamptz,
      spent_reason text,
      CONSTRAINT bootstrap_tokens_hash_length CHECK (octet_length(token_hash) = 32),
      CONSTRAINT bootstrap_tokens_spent_reason CHECK (spent_reason IS NULL OR spent_reason IN ('used', 'burnt', 'superseded'))
    );
    CREATE INDEX IF NOT EXISTS bootstrap_tokens_live_idx ON portal.bootstrap_tokens (id DESC) WHERE spent_at IS NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.bootstrap_tokens');
}
