import type { Knex } from 'knex';

/**
 * Addresses of TOYBOX's active superusers, who receive operator alerts.
 * The `<display_id>@toybox.local` placeholders TOYBOX stores for users
 * without an e-mail are not deliverable and are left out.
 */
export async function activeSuperuserEmails(knex: Knex): Promise<string[]> {
  const rows = await knex('public.users')
    .where({ is_superuser: true, is_active: true })
    .whereNotNull('email')
    .whereRaw("email NOT ILIKE '%@toybox.local'")
    .orderBy('id')
    .select<Array<{ email: string }>>('email');
  return [...new Set(rows.map((r) => r.email))];
}
