import type { Knex } from 'knex';

/** Today's TOYBOX users that share an e-mail, StudySphere id, display id or display name with an old account (read-only). */
export interface CurrentUserHit {
  id: number;
  email: string | null;
  display_id: string;
  studysphere_user_id: number | null;
  display_name: string | null;
}

export async function findCurrentUsersLike(
  knex: Knex,
  keys: { emails: string[]; studysphereIds: number[]; displayIds: string[]; displayNames: string[] },
): Promise<CurrentUserHit[]> {
  if (!keys.emails.length && !keys.studysphereIds.length && !keys.displayIds.length && !keys.displayNames.length) return [];
  return knex('public.users as u')
    .leftJoin('public.user_meta as m', 'm.user_id', 'u.id')
    .where((q) => {
      if (keys.emails.length) q.orWhereRaw('lower(u.email) = ANY(?)', [keys.emails.map((e) => e.toLowerCase())]);
      if (keys.studysphereIds.length) q.orWhereIn('u.studysphere_user_id', keys.studysphereIds);
      if (keys.displayIds.length) q.orWhereIn('u.display_id', keys.displayIds);
      if (keys.displayNames.length) q.orWhereIn('m.display_name', keys.displayNames);
    })
    .select<CurrentUserHit[]>('u.id', 'u.email', 'u.display_id', 'u.studysphere_user_id', 'm.display_name');
}
