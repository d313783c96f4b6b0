import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

/**
 * True when the imports tie this display id to another address: the id is
 * held for that person, so nobody else gets it through the portal.
 */
export async function displayIdHeldForAnother(db: Db, displayId: string, emailKey: string): Promise<boolean> {
  const row = await db('portal.addresses').where({ display_id: displayId }).whereNot({ email_key: emailKey }).first('id');
  return row !== undefined;
}

/** Whether a TOYBOX account already uses this display id (TOYBOX compares exactly, after lower-casing new ones). */
export async function displayIdInUse(db: Db, displayId: string): Promise<boolean> {
  const row = await db('public.users').where({ display_id: displayId }).first('id');
  return row !== undefined;
}
