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

export function canSignIn(user: ToyboxUser): boolean {
  return user.is_active && !user.is_suspended;
}

export function isStaff(user: Pick<PortalUser, 'is_staff' | 'is_superuser'> | undefined): boolean {
  return Boolean(user && (user.is_staff || user.is_superuser));
}

export function toPortalUser(user: ToyboxUser, scope: PortalUser['scope'] = 'full'): PortalUser {
  return {
    id: user.id,
    display_id: user.display_id,
    email: user.email,
    is_staff: user.is_staff,
    is_superuser: user.is_superuser,
    scope,
  };
}
