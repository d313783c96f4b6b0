import type { Knex } from 'knex';

// The e-mail proof link is derived (HMAC with SESSION_SECRET) from this nonce in the worker that sends it,
// so the token never waits in the queue in plain text and a resend carries the same link.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE portal.claim_email_tokens ADD COLUMN IF NOT EXISTS link_nonce text');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE portal.claim_email_tokens DROP COLUMN IF EXISTS link_nonce');
}
