import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export type ArchiveItemKind = 'post' | 'card' | 'avatar' | 'header' | 'display_name' | 'bio';

export interface ArchiveRow {
  id: number;
  user_id: number;
  sha256: string;
  size: number;
  upload_name: string;
  stored_path: string;
  key_id: string;
  exported_at: string;
  subject: { user_id: number; display_id: string; global_id: string; email_sha256: string | null };
  proof: string;
  created_at: Date;
  status: ArchiveStatus;
  review: ArchiveReview | null;
  decided_by: string | null;
  decided_at: Date | null;
  decision_reason: string | null;
}

/** verified: proof level 1 by itself; review: waiting for staff; approved: staff accepted it; rejected: nothing restorable. */
export type ArchiveStatus = 'verified' | 'review' | 'approved' | 'rejected';
export const RESTORABLE: ArchiveStatus[] = ['verified', 'approved'];

/** What staff see about an archive that is not proof by itself. */
export interface ArchiveReview {
  /** unsigned / foreign_key (with the key's fingerprint) / other_account (with which one). */
  reasons: Array<{ code: 'unsigned' | 'foreign_key' | 'other_account'; key_id?: string; user_id?: number; display_id?: string }>;
  rows: number;
  files: number;
}

export interface ArchiveItem {
  global_id: string;
  kind: ArchiveItemKind;
  position: number;
  item: Record<string, unknown>;
}

const ARCHIVES = 'portal.claim_archives';
const ITEMS = 'portal.claim_archive_items';

const asArchive = (r: ArchiveRow | undefined): ArchiveRow | undefined => (r ? { ...r, id: Number(r.id), user_id: Number(r.user_id), size: Number(r.size) } : undefined);

export async function archiveBySha(db: Db, userId: number, sha256: string): Promise<ArchiveRow | undefined> {
  return asArchive(await db(ARCHIVES).where({ user_id: userId, sha256 }).first());
}

export type NewArchive = Omit<ArchiveRow, 'id' | 'created_at' | 'decided_by' | 'decided_at' | 'decision_reason'>;

export async function insertArchive(db: Db, a: NewArchive): Promise<number> {
  const [row] = await db(ARCHIVES).insert({ ...a, subject: JSON.stringify(a.subject), review: a.review ? JSON.stringify(a.review) : null }).returning('id');
  return Number(row.id);
}

export async function insertItems(db: Db, archiveId: number, items: ArchiveItem[]): Promise<void> {
  const rows = items.map((i) => ({ archive_id: archiveId, global_id: i.global_id, kind: i.kind, position: i.position, item: JSON.stringify(i.item) }));
  for (let i = 0; i < rows.length; i += 2000) await db(ITEMS).insert(rows.slice(i, i + 2000)).onConflict(['archive_id', 'kind', 'global_id']).ignore();
}

export async function archivesOfUser(db: Db, userId: number): Promise<ArchiveRow[]> {
  return (await db(ARCHIVES).where({ user_id: userId }).orderBy('id')).map((r: ArchiveRow) => asArchive(r)!);
}

export async function getArchive(db: Db, id: number): Promise<ArchiveRow | undefined> {
  return asArchive(await db(ARCHIVES).where({ id }).first());
}

export async function itemsOf(db: Db, archiveId: number): Promise<ArchiveItem[]> {
  return (await db(ITEMS).where({ archive_id: archiveId }).orderBy(['kind', 'position'])) as ArchiveItem[];
}

export async function archivesByStatus(db: Db, status: ArchiveStatus): Promise<ArchiveRow[]> {
  return (await db(ARCHIVES).where({ status }).orderBy('id')).map((r: ArchiveRow) => asArchive(r)!);
}

export async function lockArchive(db: Db, id: number): Promise<ArchiveRow | undefined> {
  return asArchive(await db(ARCHIVES).where({ id }).forUpdate().first());
}

export async function decideArchive(db: Db, id: number, d: { status: 'approved' | 'rejected'; proof: string; decided_by: string; reason: string; stored_path?: string }): Promise<void> {
  await db(ARCHIVES).where({ id }).update({ status: d.status, proof: d.proof, decided_by: d.decided_by, decided_at: db.fn.now(), decision_reason: d.reason, ...(d.stored_path !== undefined ? { stored_path: d.stored_path } : {}) });
}

export async function deleteItems(db: Db, archiveId: number): Promise<void> {
  await db(ITEMS).where({ archive_id: archiveId }).delete();
}

export async function countItems(db: Db, archiveIds: number[]): Promise<Map<number, { posts: number; cards: number }>> {
  const out = new Map<number, { posts: number; cards: number }>();
  if (!archiveIds.length) return out;
  const rows = await db(ITEMS).whereIn('archive_id', archiveIds).select('archive_id', 'kind').count<Array<{ archive_id: string; kind: string; n: string }>>('* as n').groupBy('archive_id', 'kind');
  for (const r of rows) {
    const c = out.get(Number(r.archive_id)) ?? { posts: 0, cards: 0 };
    if (r.kind === 'post') c.posts = Number(r.n);
    if (r.kind === 'card') c.cards = Number(r.n);
    out.set(Number(r.archive_id), c);
  }
  return out;
}
