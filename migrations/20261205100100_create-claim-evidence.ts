import type { Knex } from 'knex';

// What backs a claim, one row per proof (a matched file, a confirmed e-mail, a stated display id),
// so staff see the evidence side by side. `ref` makes the same proof submitted twice one row.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE IF NOT EXISTS portal.claim_evidence (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      claim_id bigint NOT NULL REFERENCES portal.claims (id),
      kind text NOT NULL CHECK (kind IN ('file_match', 'email', 'sso', 'token', 'statement')),
      level smallint NOT NULL CHECK (level BETWEEN 1 AND 6),
      ref text NOT NULL,
      details jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (claim_id, kind, ref)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS portal.claim_evidence');
}
