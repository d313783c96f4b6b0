import type { Knex } from 'knex';

/**
 * TOYBOX's own notice surfaces: the `announcements` list (content shown as
 * escaped plain text) and the `site_maintenance` singleton (lowest id; when
 * enabled the Django site answers 503 on every path but /admin/, health,
 * static and uploads, signed in or not). The portal's incident mirror writes
 * here and nowhere else.
 */
type Db = Knex | Knex.Transaction;

export interface MaintenanceValues {
  enabled: boolean;
  message: string;
  scheduled_end: Date | null;
}

export async function upsertAnnouncement(
  db: Db,
  id: number | null,
  a: { title: string; content: string; is_active: boolean; created_by_id: number | null },
): Promise<number> {
  const title = a.title.slice(0, 200);
  if (id !== null) {
    const n = await db('public.announcements').where({ id }).update({ title, content: a.content, is_active: a.is_active, updated_at: db.fn.now() });
    if (n > 0) return id;
  }
  const [row] = await db('public.announcements')
    .insert({ title, content: a.content, is_active: a.is_active, created_by_id: a.created_by_id, created_at: db.fn.now(), updated_at: db.fn.now() })
    .returning('id');
  return Number(row.id);
}

export async function deleteAnnouncement(db: Db, id: number): Promise<void> {
  await db('public.announcements').where({ id }).delete();
}

/** The row the site reads (lowest id), or undefined when the site has none yet. */
export async function findMaintenanceRow(db: Db): Promise<(MaintenanceValues & { id: number }) | undefined> {
  return db('public.site_maintenance').orderBy('id', 'asc').first('id', 'enabled', 'message', 'scheduled_end').forUpdate();
}

export async function insertMaintenanceRow(db: Db, v: MaintenanceValues): Promise<number> {
  const [row] = await db('public.site_maintenance').insert({ ...v, updated_at: db.fn.now() }).returning('id');
  return Number(row.id);
}

export async function setMaintenanceRow(db: Db, id: number, v: MaintenanceValues): Promise<void> {
  await db('public.site_maintenance').where({ id }).update({ ...v, updated_at: db.fn.now() });
}

export async function deleteMaintenanceRow(db: Db, id: number): Promise<void> {
  await db('public.site_maintenance').where({ id }).delete();
}
