import type { Knex } from 'knex';
import {
  upsertAnnouncement,
  deleteAnnouncement,
  findMaintenanceRow,
  insertMaintenanceRow,
  setMaintenanceRow,
  deleteMaintenanceRow,
  type MaintenanceValues,
} from '../../toybox/notice-mirror';
import { CLOSED_STATES, type NoticeRow } from './model';
import { markdownTitleText, markdownToPlainText } from './markdown';

interface MirrorRow {
  notice_id: number;
  announcement_id: number | null;
  maintenance_id: number | null;
  maintenance_created: boolean;
  maintenance_previous: { enabled: boolean; message: string; scheduled_end: string | null } | null;
}

export interface MirrorResult {
  announcementId: number | null;
  maintenanceId: number | null;
}

/** TOYBOX prints announcements and the maintenance message as plain text: Markdown would show as `**...**`. */
function latestText(notice: NoticeRow, latestUpdateJa: string | null, publicUrl: string): string {
  const body = markdownToPlainText(notice.body_ja, publicUrl);
  return latestUpdateJa ? `${body}\n\n${markdownToPlainText(latestUpdateJa, publicUrl)}` : body;
}

/**
 * Makes TOYBOX's announcements/site_maintenance agree with one notice, in the
 * caller's transaction. With the mirror off (or the notice unpublished) it
 * removes exactly what it wrote before and leaves everything else alone.
 */
export async function syncMirror(
  trx: Knex.Transaction,
  notice: NoticeRow,
  latestUpdateJa: string | null,
  userId: number | null,
  publicUrl: string,
): Promise<MirrorResult> {
  const existing = (await trx<MirrorRow>('portal.notice_mirrors').where({ notice_id: notice.id }).first()) ?? null;
  const wanted = notice.mirror && notice.published_at !== null;
  if (!wanted) {
    if (existing) await removeMirror(trx, existing);
    return { announcementId: null, maintenanceId: null };
  }
  const row: MirrorRow = existing ?? { notice_id: notice.id, announcement_id: null, maintenance_id: null, maintenance_created: false, maintenance_previous: null };
  row.announcement_id = await upsertAnnouncement(trx, row.announcement_id, {
    title: markdownTitleText(notice.title_ja),
    content: latestText(notice, latestUpdateJa, publicUrl),
    is_active: !CLOSED_STATES.includes(notice.state),
    created_by_id: userId,
  });
  const maintenanceOn = notice.kind === 'maintenance' && notice.state === 'in_progress';
  if (maintenanceOn) {
    const values: MaintenanceValues = { enabled: true, message: `${markdownTitleText(notice.title_ja)}\n${markdownToPlainText(notice.body_ja, publicUrl)}`, scheduled_end: notice.ends_at };
    if (row.maintenance_id === null) {
      const site = await findMaintenanceRow(trx);
      if (site) {
        row.maintenance_id = site.id;
        row.maintenance_created = false;
        row.maintenance_previous = { enabled: site.enabled, message: site.message, scheduled_end: site.scheduled_end ? site.scheduled_end.toISOString() : null };
        await setMaintenanceRow(trx, site.id, values);
      } else {
        row.maintenance_id = await insertMaintenanceRow(trx, values);
        row.maintenance_created = true;
        row.maintenance_previous = null;
      }
    } else {
      await setMaintenanceRow(trx, row.maintenance_id, values);
    }
  } else if (row.maintenance_id !== null) {
    await restoreMaintenance(trx, row);
  }
  await trx('portal.notice_mirrors')
    .insert({ ...row, maintenance_previous: row.maintenance_previous ? JSON.stringify(row.maintenance_previous) : null })
    .onConflict('notice_id')
    .merge();
  return { announcementId: row.announcement_id, maintenanceId: row.maintenance_id };
}

async function restoreMaintenance(trx: Knex.Transaction, row: MirrorRow): Promise<void> {
  if (row.maintenance_id === null) return;
  if (row.maintenance_created) await deleteMaintenanceRow(trx, row.maintenance_id);
  else if (row.maintenance_previous) {
    const p = row.maintenance_previous;
    await setMaintenanceRow(trx, row.maintenance_id, { enabled: p.enabled, message: p.message, scheduled_end: p.scheduled_end ? new Date(p.scheduled_end) : null });
  }
  row.maintenance_id = null;
  row.maintenance_created = false;
  row.maintenance_previous = null;
}

async function removeMirror(trx: Knex.Transaction, row: MirrorRow): Promise<void> {
  if (row.announcement_id !== null) await deleteAnnouncement(trx, row.announcement_id);
  await restoreMaintenance(trx, row);
  await trx('portal.notice_mirrors').where({ notice_id: row.notice_id }).delete();
}
