import * as rows from '../../toybox/restored-rows';
import type * as restores from './restore-repo';

type Trx = Parameters<typeof rows.setColumn>[0];

export interface ProfileValues {
  avatarUrl: string | null;
  headerUrl: string | null;
  /** The old display name and bio, when the person ticked them. */
  displayName: string | null;
  bio: string | null;
}

/**
 * Writes the chosen profile values into TOYBOX's rows (the restore from old data and from an archive share this),
 * recording each column's value before it so undo can put it back. A value equal to today's is not written.
 * Returns how many profile texts (display name, bio) changed.
 */
export async function writeProfileValues(
  trx: Trx,
  record: (write: Partial<restores.NewWrite> & { op: restores.NewWrite['op'] }) => void,
  user: { id: number; avatar_url: string | null },
  meta: { id: number; header_url: string | null; display_name: string; bio: string } | undefined,
  v: ProfileValues,
): Promise<number> {
  const set = async (table: 'users' | 'user_meta', id: number, column: string, before: unknown, after: unknown) => {
    await rows.setColumn(trx, table, id, column, after);
    record({ op: 'update', table_name: table, row_id: id, column_name: column, before, after });
  };
  if (v.avatarUrl) await set('users', user.id, 'avatar_url', user.avatar_url, v.avatarUrl);
  if (v.headerUrl && meta) await set('user_meta', meta.id, 'header_url', meta.header_url, v.headerUrl);
  let texts = 0;
  if (v.displayName && meta && meta.display_name !== v.displayName) {
    await set('user_meta', meta.id, 'display_name', meta.display_name, v.displayName);
    texts++;
  }
  if (v.bio && meta && meta.bio !== v.bio) {
    await set('user_meta', meta.id, 'bio', meta.bio, v.bio);
    texts++;
  }
  return texts;
}
