import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { makeDjangoPassword } from '../../src/auth/django-password';
import { insertUserRow, insertUserMetaRow, type NewUser } from '../../src/toybox/rows';

/**
 * Test users hashed at 1,000 iterations: a legitimate older cost that Django
 * (and the portal) verify, and 1000x faster than the production default.
 */
export const TEST_ITERATIONS = 1000;

export interface BuiltUser {
  id: number;
  email: string;
  display_id: string;
  password: string;
}

export async function buildUser(knex: Knex, overrides: Partial<NewUser> & { password?: string } = {}): Promise<BuiltUser> {
  const suffix = crypto.randomBytes(4).toString('hex');
  const password = overrides.password ?? `pw-${suffix}-secret`;
  const display_id = overrides.display_id ?? `user_${suffix}`;
  const email = overrides.email === undefined ? `${display_id}@example.com` : overrides.email;
  const id = await insertUserRow(knex, {
    ...overrides,
    email,
    display_id,
    password: await makeDjangoPassword(password, TEST_ITERATIONS),
  });
  await insertUserMetaRow(knex, id, display_id);
  return { id, email: email ?? '', display_id, password };
}
