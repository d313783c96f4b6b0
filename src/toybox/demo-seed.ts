import type { Knex } from 'knex';
import { makeDjangoPassword } from '../auth/django-password';
import {
  insertUserRow,
  insertUserMetaRow,
  insertSubmissionRow,
  insertCardRow,
  insertUserCardRow,
  insertReactionRow,
  insertPointsRows,
} from './rows';

/** Demo rows are recognisable by this domain: no real TOYBOX user has it (RFC 2606's .invalid). */
export const DEMO_EMAIL_DOMAIN = 'demo.toybox.invalid';
export const DEMO_PASSWORD = 'demo-password-2026';

export class RealDataPresent extends Error {}

const DEMO_USERS = [
  { display_id: 'demo_admin', name: 'デモ管理者', staff: true },
  { display_id: 'demo_hanako', name: 'デモ花子', staff: false },
  { display_id: 'demo_taro', name: 'デモ太郎', staff: false },
];
const REACTIONS = ['awesome', 'cute', 'funny', 'cool', 'beautiful'];

/**
 * Fills TOYBOX's tables with a clearly labelled demo set. Refuses when the
 * users table holds any non-demo row: it must never mix into real data.
 * Returns the number of demo users now present (running twice adds nothing).
 */
export async function seedDemo(knex: Knex): Promise<{ users: number; created: boolean }> {
  return knex.transaction(async (trx) => {
    await trx.raw('LOCK TABLE public.users IN SHARE ROW EXCLUSIVE MODE');
    const real = await trx('public.users').whereNot('email', 'like', `%@${DEMO_EMAIL_DOMAIN}`).orWhereNull('email').count<{ count: string }[]>('id as count');
    if (Number(real[0]!.count) > 0) throw new RealDataPresent(`the users table holds ${real[0]!.count} non-demo rows`);
    const existing = await trx('public.users').count<{ count: string }[]>('id as count');
    if (Number(existing[0]!.count) > 0) return { users: Number(existing[0]!.count), created: false };

    const password = await makeDjangoPassword(DEMO_PASSWORD);
    const cardIds: number[] = [];
    for (const [i, rarity] of ['N', 'R', 'SR', 'UR'].entries()) {
      cardIds.push(await insertCardRow(trx, { code: `DEMO-${i + 1}`, name: `デモカード ${i + 1}`, rarity }));
    }
    const postIds: number[] = [];
    for (const [i, u] of DEMO_USERS.entries()) {
      const id = await insertUserRow(trx, {
        email: `${u.display_id}@${DEMO_EMAIL_DOMAIN}`,
        display_id: u.display_id,
        password,
        is_staff: u.staff,
        role: u.staff ? 'ADMIN' : 'FREE_USER',
      });
      await insertUserMetaRow(trx, id, u.name);
      await insertPointsRows(trx, id, 100 * (i + 1));
      for (let p = 1; p <= 5; p += 1) {
        postIds.push(await insertSubmissionRow(trx, { author_id: id, title: `デモ投稿 ${p}`, caption: `【デモ】${u.name}の投稿 ${p}`, hashtags: ['デモ'] }));
      }
      for (const cardId of cardIds.slice(0, i + 2)) await insertUserCardRow(trx, id, cardId);
    }
    const [firstUser] = await trx('public.users').orderBy('id').limit(1).pluck('id');
    for (const [i, postId] of postIds.slice(5).entries()) {
      await insertReactionRow(trx, Number(firstUser), postId, REACTIONS[i % REACTIONS.length]!);
    }
    return { users: DEMO_USERS.length, created: true };
  });
}
