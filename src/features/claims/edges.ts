import path from 'node:path';
import type { Knex } from 'knex';
import type * as catalogue from '../../salvage-catalogue';
import * as rows from '../../toybox/restored-rows';
import * as claimsRepo from './repo';

const postKeyForFile = (name: string) => `old-media:submissions/${name.slice(0, name.length - path.posix.extname(name).length)}`.slice(0, 100);

/**
 * Reactions and follows of the old database with this old id at one end,
 * written only when both ends are back: the other person holds an approved
 * claim on their old id and, for a reaction, the post is restored. The rest
 * stay where they are (the old database) and are completed by the restore
 * of the other side, which reads the same edges. Existing rows are kept.
 */
export async function restoreEdges(trx: Knex.Transaction, edges: catalogue.OldEdge[]): Promise<{ reactions: number[]; follows: number[]; pending: number }> {
  if (!edges.length) return { reactions: [], follows: [], pending: 0 };
  const granted = await claimsRepo.grantedOldIds(trx, edges.flatMap((e) => [e.from_old, e.to_old]));
  const keys = edges.flatMap((e) => (e.kind === 'reaction' && e.post_file ? [postKeyForFile(e.post_file)] : []));
  const posts = await rows.submissionIdsByOldId(trx, keys);
  const reactions: Array<{ user_id: number; submission_id: number; type: string; created_at: Date }> = [];
  const follows: Array<{ follower_id: number; following_id: number; created_at: Date }> = [];
  let pending = 0;
  for (const e of edges) {
    const from = granted.get(e.from_old);
    if (e.kind === 'reaction') {
      const post = e.post_file ? posts.get(postKeyForFile(e.post_file)) : undefined;
      if (from !== undefined && post !== undefined) reactions.push({ user_id: from, submission_id: post, type: e.type!, created_at: e.created_at });
      else pending++;
    } else {
      const to = granted.get(e.to_old);
      if (from !== undefined && to !== undefined && from !== to) follows.push({ follower_id: from, following_id: to, created_at: e.created_at });
      else pending++;
    }
  }
  return { reactions: await rows.insertReactions(trx, reactions), follows: await rows.insertFollows(trx, follows), pending };
}
