import type { Knex } from 'knex';

// Known addresses gathered from the surviving sources; email_key (lower-cased) merges duplicates across imports.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.addresses (
      id bigserial PRIMARY KEY,
      email text NOT NULL,
      email_key text NOT NULL UNIQUE,
      display_id text,
      name text,
      lang text NOT NULL DEFAULT 'ja',
      sources text[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.addresses');
}
