import type { ToyboxUser } from '../toybox/users';

/** What a session knows about its user; never the password hash. */
export interface PortalUser {
  id: number;
  display_id: string;
  email: string | null;
  is_staff: boolean;
  is_superuser: boolean;
  /** Set for a sign-in by e-mailed link: allowed to export, nothing else. */
  scope?: 'full' | 'export-only';
}

/**
 * As TOYBOX's login: an inactive account is refused. A banned one is refused too (TOYBOX lets it in only
 * to show the ban message). A suspended account signs in to TOYBOX, so it signs in here, but only to
 * export its own data (see toPortalUser).
 */
export function canSignIn(user: Pick<ToyboxUser, 'is_active' | 'banned_at' | 'penalty_type'>): boolean {
  return user.is_active && user.banned_at === null && user.penalty_type !== 'BAN';
}

export function isStaff(user: Pick<PortalUser, 'is_staff' | 'is_superuser'> | undefined): boolean {
  return Boolean(user && (user.is_staff || user.is_superuser));
}

/** A suspended account's session is export-only whatever it asked for: its own data, no staff pages. */
export function toPortalUser(user: ToyboxUser, requested: PortalUser['scope'] = 'full'): PortalUser {
  const scope = user.is_suspended ? 'export-only' : requested;
  return {
    id: user.id,
    display_id: user.display_id,
    email: user.email,
    is_staff: user.is_staff,
    is_superuser: user.is_superuser,
    scope,
  };
}
