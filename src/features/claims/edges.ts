import path from 'node:path';
import type { Knex } from 'knex';
import type * as catalogue from '../../salvage-catalogue';
import * as rows from '../../toybox/restored-rows';
import * as claimsRepo from './repo';

const postKeyForFile = (name: string) => `old-media:submissions/${name.slice(0, name.length - path.posix.extname(name).length)}`.slice(0, 100);
/** The provenance key the restore gives the post an edge points at (a media post by its file, a game by its folder). */
const postKeyOf = (e: catalogue.OldEdge): string | null => (e.post_file ? postKeyForFile(e.post_file) : e.post_game ? `old-media:${e.post_game}`.slice(0, 100) : null);

export interface RestoredEdges {
  reactions: number[];
  bookmarks: number[];
  reposts: number[];
  follows: number[];
  pending: number;
}

/**
 * Reactions, bookmarks, reposts and follows of the old database with this old
 * id at one end, written only when both ends are back: the other person holds
 * an approved claim on their old id and, for an edge on a post, the post is
 * restored. The rest stay where they are (the old database) and are completed
 * by the restore of the other side, which reads the same edges. Existing rows
 * are kept (TOYBOX's unique constraints: one reaction of a type, one bookmark,
 * one repost per person and post). Rows only: no counter, points or
 * notification (TOYBOX counts bookmarks and reposts with COUNT(); a repost's
 * 5 TP were spent before the wipe).
 */
export async function restoreEdges(trx: Knex.Transaction, edges: catalogue.OldEdge[]): Promise<RestoredEdges> {
  if (!edges.length) return { reactions: [], bookmarks: [], reposts: [], follows: [], pending: 0 };
  const granted = await claimsRepo.grantedOldIds(trx, edges.flatMap((e) => [e.from_old, e.to_old]));
  const keys = edges.flatMap((e) => (e.kind !== 'follow' && postKeyOf(e) ? [postKeyOf(e)!] : []));
  const posts = await rows.submissionIdsByOldId(trx, keys);
  const reactions: Array<{ user_id: number; submission_id: number; type: string; created_at: Date }> = [];
  const saved: Record<'bookmark' | 'repost', Array<{ user_id: number; submission_id: number; created_at: Date }>> = { bookmark: [], repost: [] };
  const follows: Array<{ follower_id: number; following_id: number; created_at: Date }> = [];
  let pending = 0;
  for (const e of edges) {
    const from = granted.get(e.from_old);
    if (e.kind === 'follow') {
      const to = granted.get(e.to_old);
      if (from !== undefined && to !== undefined && from !== to) follows.push({ follower_id: from, following_id: to, created_at: e.created_at });
      else if (from === undefined || to === undefined) pending++;
      continue;
    }
    const key = postKeyOf(e);
    const post = key ? posts.get(key) : undefined;
    if (from === undefined || post === undefined) {
      pending++;
      continue;
    }
    if (e.kind === 'reaction') reactions.push({ user_id: from, submission_id: post, type: e.type!, created_at: e.created_at });
    // TOYBOX refuses to bookmark one's own post; a person holding both old ids gets no such row.
    else if (granted.get(e.to_old) !== from) saved[e.kind].push({ user_id: from, submission_id: post, created_at: e.created_at });
  }
  return {
    reactions: await rows.insertReactions(trx, reactions),
    bookmarks: await rows.insertPostEdges(trx, 'submission_bookmarks', saved.bookmark),
    reposts: await rows.insertPostEdges(trx, 'submission_reposts', saved.repost),
    follows: await rows.insertFollows(trx, follows),
    pending,
  };
}
