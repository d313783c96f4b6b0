import path from 'node:path';
import type { AppContext } from '../../app-context';
import { recordAudit } from '../../audit/service';
import { Conflict, NotFound } from '../../http/errors';
import * as catalogue from '../../salvage-catalogue';
import * as rows from '../../toybox/restored-rows';
import * as restores from './restore-repo';
import * as claimsRepo from './repo';
import { pruneEmptyGameDirs, removeCopied } from './media-copy';
import type { Actor } from './service';

/**
 * Undoes one restore within its grace period, in one transaction: rows it
 * added are deleted newest first (children before parents), columns it set go
 * back unless the person changed them since, then the files it copied are
 * removed. Anything the person made since is untouched. A restored post that
 * others have reacted to, bookmarked or reposted since cannot be removed (FK at
 * COMMIT): refused whole.
 */
export async function undo(ctx: AppContext, who: Actor, restoreId: number, opts: { staff?: boolean } = {}): Promise<{ removed: number }> {
  let files: restores.WriteRow[] = [];
  let removed = 0;
  try {
    await ctx.knex.transaction(async (trx) => {
      const r = await restores.lockRestore(trx, restoreId);
      if (!r || (r.user_id !== who.id && !opts.staff)) throw NotFound('claims.undo.not_found');
      if (r.status !== 'done') throw Conflict('claims.undo.already');
      if (r.undo_until < new Date() && !opts.staff) throw Conflict('claims.undo.expired');
      const writes = await restores.writesNewestFirst(trx, restoreId);
      files = writes.filter((x) => x.op === 'file');
      const byTable = new Map<rows.RestorableTable, number[]>();
      for (const x of writes) {
        if (x.op === 'update') await rows.resetColumnIfUnchanged(trx, x.table_name as 'users' | 'user_meta', x.row_id!, x.column_name!, x.after, x.before);
        if (x.op === 'insert') {
          // user_meta was created as a parent: it goes last, and only if nothing else needs it.
          const list = byTable.get(x.table_name as rows.RestorableTable) ?? [];
          list.push(x.row_id!);
          byTable.set(x.table_name as rows.RestorableTable, list);
        }
      }
      // Reactions, bookmarks and reposts another restore added on these posts go with them, children first
      // (they come back if the posts are restored again).
      for (const table of rows.POST_EDGE_TABLES) {
        const onPosts = await restores.insertedByRestores(trx, table, await rows.postEdgeIdsOn(trx, table, byTable.get('submissions') ?? []));
        byTable.set(table, [...new Set([...(byTable.get(table) ?? []), ...onPosts])]);
      }
      for (const table of ['reactions', 'submission_bookmarks', 'submission_reposts', 'user_follows', 'user_cards', 'submissions', 'article_media', 'articles', 'user_meta'] as const) {
        const ids = byTable.get(table);
        if (ids?.length) await rows.deleteRows(trx, table, ids);
        removed += ids?.length ?? 0;
      }
      await restores.markUndone(trx, restoreId);
      await recordAudit(trx, who.actor, 'claims.undo', `user:${r.user_id}`, { restore: restoreId, removed });
    });
  } catch (err) {
    if ((err as { code?: string }).code === '23503') throw Conflict('claims.undo.in_use');
    throw err;
  }
  const root = ctx.config.TOYBOX_MEDIA_DIR ? path.resolve(ctx.config.TOYBOX_MEDIA_DIR) : null;
  if (root) {
    const targets = files.map((f) => path.resolve(root, f.file_path!)).filter((abs) => abs.startsWith(root + path.sep));
    await removeCopied(targets.map((abs) => ({ abs })));
    await pruneEmptyGameDirs(root, targets);
  }
  return { removed };
}

export async function myRestores(ctx: AppContext, userId: number): Promise<restores.RestoreRow[]> {
  return restores.restoresOfUser(ctx.knex, userId);
}

/**
 * A small preview of a catalogued file for its owner (an approved claim on
 * its old id) or staff; everyone else gets "not found". Thumbnails and
 * posters are served as they are; originals are scaled down.
 */
export async function preview(ctx: AppContext, who: { id: number; staff: boolean }, fileId: number): Promise<{ type: string; body: Buffer }> {
  const file = await catalogue.catalogueFile(ctx.knex, fileId);
  if (!file || file.old_user_id === null) throw NotFound();
  if (!who.staff) {
    if (!(await claimsRepo.hasApprovedClaim(ctx.knex, who.id, file.old_user_id))) throw NotFound();
  }
  if (file.kind === 'post_video') throw NotFound();
  try {
    // sharp (libvips) is loaded only when a preview is asked for: restores never need it.
    const { default: sharp } = await import('sharp');
    const body = await sharp(file.abs_path, { limitInputPixels: 50_000_000 }).rotate().resize(320, 320, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 80 }).toBuffer();
    return { type: 'image/jpeg', body };
  } catch {
    throw NotFound();
  }
}
