import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import type { Knex } from 'knex';
import { findUsersByLogin, findUserById } from '../toybox/users';
import { checkDjangoPassword } from './django-password';
import type { HashGate } from './hash-gate';
import { canSignIn, toPortalUser, type PortalUser } from './user';

export type LoginFailure = 'invalid' | 'ambiguous' | 'inactive';

/**
 * Signs in against TOYBOX's own users table with display id or e-mail.
 * display_id is not unique in the database, so an ambiguous one is refused
 * with a request to use the e-mail instead of guessing which account is meant.
 */
export async function authenticate(
  knex: Knex,
  identifier: string,
  password: string,
  gate?: HashGate,
): Promise<{ user: PortalUser } | { failure: LoginFailure }> {
  const candidates = await findUsersByLogin(knex, identifier.trim());
  if (candidates.length > 1) return { failure: 'ambiguous' };
  const user = candidates[0];
  // Hash even when no user exists, so timing does not reveal which ids exist.
  // At most a few hashes at once (see hash-gate.ts); beyond that the caller gets HashGateBusy.
  const check = () => checkDjangoPassword(password, user?.password ?? DUMMY_HASH, gate?.pbkdf2);
  const ok = await (gate ? gate.run(check) : check());
  if (!user || !ok) return { failure: 'invalid' };
  if (!canSignIn(user)) return { failure: 'inactive' };
  return { user: toPortalUser(user) };
}

const DUMMY_HASH = 'pbkdf2_sha256$1000000$dummysaltdummysalt00$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export function configurePassport(knex: Knex, gate?: HashGate): passport.PassportStatic {
  passport.use(
    new LocalStrategy({ usernameField: 'login', passwordField: 'password' }, (login, password, done) => {
      authenticate(knex, login, password, gate)
        .then((r) => ('user' in r ? done(null, r.user) : done(null, false, { message: r.failure })))
        .catch(done);
    }),
  );
  passport.serializeUser((user, done) => done(null, { id: user.id, scope: user.scope ?? 'full' }));
  passport.deserializeUser((stored: { id: number; scope?: PortalUser['scope'] }, done) => {
    // Re-read on each request: a suspension or demotion takes effect at once.
    findUserById(knex, stored.id)
      .then((u) => done(null, u && canSignIn(u) ? toPortalUser(u, stored.scope) : false))
      .catch(done);
  });
  return passport;
}
