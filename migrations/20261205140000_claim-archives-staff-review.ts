import type { Knex } from 'knex';

// An archive that is well-formed but not proof by itself (unsigned, signed by a foreign key, or naming
// another account) is kept for staff review: its status, what failed, and the staff decision.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE portal.claim_archives
      ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'verified'
        CHECK (status IN ('verified', 'review', 'approved', 'rejected')),
      ADD COLUMN IF NOT EXISTS review jsonb,
      ADD COLUMN IF NOT EXISTS decided_by text,
      ADD COLUMN IF NOT EXISTS decided_at timestamptz,
      ADD COLUMN IF NOT EXISTS decision_reason text;
    CREATE INDEX IF NOT EXISTS claim_archives_review_idx ON portal.claim_archives (id) WHERE status = 'review';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX IF EXISTS portal.claim_archives_review_idx;
    ALTER TABLE portal.claim_archives
      DROP COLUMN IF EXISTS decision_reason, DROP COLUMN IF EXISTS decided_at, DROP COLUMN IF EXISTS decided_by,
      DROP COLUMN IF EXISTS review, DROP COLUMN IF EXISTS status;
  `);
}
