import type { Knex } from 'knex';

/** Active superusers, and the newest sign-in among them (TOYBOX's users.last_login, which the portal's login also sets). */
export async function superuserSignIns(knex: Knex): Promise<{ count: number; lastLogin: Date | null }> {
  const [row] = await knex('public.users')
    .where({ is_superuser: true, is_active: true, is_suspended: false })
    .select<Array<{ count: string | number; last_login: Date | null }>>(knex.raw('count(*) AS count'), knex.raw('max(last_login) AS last_login'));
  return { count: Number(row?.count ?? 0), lastLogin: row?.last_login ?? null };
}
