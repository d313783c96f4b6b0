/**
 * TOYBOX's sign-up page is `/signup/` (frontend/urls.py, name 'signup').
 * The address travels as `?email=`; if the page does not read it, the person
 * still lands on the right form and types it.
 */
export function toyboxSignupUrl(toyboxUrl: string, email: string | null): string {
  const url = new URL('/signup/', `${toyboxUrl}/`);
  if (email) url.searchParams.set('email', email);
  return url.toString();
}
