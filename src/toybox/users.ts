import type { Knex } from 'knex';

/** The columns of TOYBOX's `users` the portal reads for sign-in and roles (never the StudySphere code). */
export interface ToyboxUser {
  id: number;
  email: string | null;
  display_id: string;
  password: string;
  role: string;
  is_active: boolean;
  is_staff: boolean;
  is_superuser: boolean;
  is_suspended: boolean;
  banned_at: Date | null;
  penalty_type: string | null;
  last_login: Date | null;
}

const COLUMNS: string[] = ['id', 'email', 'display_id', 'password', 'role', 'is_active', 'is_staff', 'is_superuser', 'is_suspended', 'banned_at', 'penalty_type', 'last_login'];

/**
 * An identifier with "@" is an e-mail (matched case-insensitively, as Django normalises domains); otherwise a
 * display id, compared exactly as stored, as TOYBOX's /api/auth/login/ does (`display_id=...`, no lower-casing):
 * accounts made by create_user or the Django admin can hold capitals, and TOYBOX accepts them as typed.
 */
export async function findUsersByLogin(knex: Knex, identifier: string): Promise<ToyboxUser[]> {
  const q = knex('public.users').select<ToyboxUser[]>(COLUMNS).limit(2);
  if (identifier.includes('@')) q.whereRaw('lower(email) = lower(?)', [identifier]);
  else q.where('display_id', identifier);
  return q;
}

export async function findUserById(knex: Knex, id: number): Promise<ToyboxUser | undefined> {
  return knex('public.users').where({ id }).first<ToyboxUser | undefined>(COLUMNS);
}

export async function touchLastLogin(knex: Knex, id: number): Promise<void> {
  await knex('public.users').where({ id }).update({ last_login: knex.fn.now() });
}

/** An active superuser: what TOYBOX needs to be administrable at all. */
export async function hasActiveSuperuser(knex: Knex): Promise<boolean> {
  const row = await knex('public.users')
    .where({ is_superuser: true, is_active: true, is_suspended: false })
    .first('id');
  return row !== undefined;
}
