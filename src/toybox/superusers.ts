import type { Knex } from 'knex';
import { insertUserRow, insertUserMetaRow } from './rows';

type Db = Knex | Knex.Transaction;

/** TOYBOX's user model: what `role` holds for a superuser made by createsuperuser. */
export const SUPERUSER_ROLE = 'SUPERUSER';

/**
 * The role an administrator gets. Both kinds have is_staff and is_superuser
 * (Django admin at /admin/ with every permission), but TOYBOX's own console
 * /admin/console/ (adminpanel admin_required) admits only role ADMIN:
 * - `ADMIN`: Django admin and TOYBOX's console, the account that can run the site (default);
 * - `SUPERUSER`: exactly what `createsuperuser` makes; the console answers 403.
 * TOYBOX's API permissions accept either.
 */
export type AdminRole = 'ADMIN' | 'SUPERUSER';
export const ADMIN_ROLES: readonly AdminRole[] = ['ADMIN', 'SUPERUSER'];
export const DEFAULT_ADMIN_ROLE: AdminRole = 'ADMIN';

/**
 * Django's BaseUserManager.normalize_email: strips the address and lower-cases
 * only the domain (the local part may be case-sensitive at the mail server).
 */
export function normalizeEmail(email: string): string {
  const trimmed = email.trim();
  const at = trimmed.lastIndexOf('@');
  if (at < 0) return trimmed;
  return `${trimmed.slice(0, at)}@${trimmed.slice(at + 1).toLowerCase()}`;
}

export interface ExistingUser {
  id: number;
  email: string | null;
  display_id: string;
  is_active: boolean;
  is_superuser: boolean;
  is_suspended: boolean;
}

const EXISTING_COLUMNS = ['id', 'email', 'display_id', 'is_active', 'is_superuser', 'is_suspended'];

/**
 * Rows that would clash with a new account: the same e-mail (case-insensitive,
 * as the portal signs in) or the same display id (not unique in the database,
 * but sign-in by display id must stay unambiguous). Pass null to skip a field.
 */
export async function findClashingUsers(db: Db, email: string | null, displayId: string | null): Promise<ExistingUser[]> {
  if (email === null && displayId === null) return [];
  return db('public.users')
    .select<ExistingUser[]>(EXISTING_COLUMNS)
    .where((q) => {
      if (email !== null) q.orWhereRaw('lower(email) = lower(?)', [email]);
      if (displayId !== null) q.orWhere('display_id', displayId);
    })
    .orderBy('id');
}

/**
 * What TOYBOX's `create_superuser` writes, with the chosen role (create_superuser
 * takes role as an extra field; its default is SUPERUSER): is_staff,
 * is_superuser and is_active true, the e-mail's domain lower-cased, the given
 * Django password hash, created_at/updated_at now; plus the user_meta profile
 * row the app would create on first use. Call inside a transaction.
 */
export async function insertSuperuser(trx: Knex.Transaction, u: { email: string; display_id: string; passwordHash: string; role?: AdminRole }): Promise<number> {
  const id = await insertUserRow(trx, {
    email: normalizeEmail(u.email),
    display_id: u.display_id,
    password: u.passwordHash,
    role: u.role ?? DEFAULT_ADMIN_ROLE,
    is_staff: true,
    is_superuser: true,
    is_active: true,
  });
  await insertUserMetaRow(trx, id);
  return id;
}

/** Makes an existing account an administrator with the chosen role (staff, superuser, active); optionally lifts a suspension. */
export async function promoteToSuperuser(db: Db, id: number, opts: { unsuspend?: boolean; role?: AdminRole } = {}): Promise<void> {
  await db('public.users')
    .where({ id })
    .update({
      role: opts.role ?? DEFAULT_ADMIN_ROLE,
      is_staff: true,
      is_superuser: true,
      is_active: true,
      ...(opts.unsuspend ? { is_suspended: false, banned_at: null } : {}),
      updated_at: db.fn.now(),
    });
  const meta = await db('public.user_meta').where({ user_id: id }).first('id');
  if (!meta) await insertUserMetaRow(db, id);
}

/** Django's set_password + save(): a new hash, and updated_at (auto_now) moves. */
export async function setUserPasswordHash(db: Db, id: number, passwordHash: string): Promise<void> {
  await db('public.users').where({ id }).update({ password: passwordHash, updated_at: db.fn.now() });
}

export async function countActiveSuperusers(db: Db): Promise<number> {
  const [row] = await db('public.users')
    .where({ is_superuser: true, is_active: true, is_suspended: false })
    .count<Array<{ count: string | number }>>('id as count');
  return Number(row?.count ?? 0);
}
