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

export async function insertArchive(db: Db, a: Omit<ArchiveRow, 'id' | 'created_at'>): Promise<number> {
  const [row] = await db(ARCHIVES).insert({ ...a, subject: JSON.stringify(a.subject) }).returning('id');
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
