import type { Knex } from 'knex';

export interface StatusCount {
  table: 'campaign_recipients' | 'export_jobs';
  status: string;
  count: number;
}

/**
 * THE ONLY place the backups feature reads other features' tables, and only
 * to count them for /metrics: campaign progress (portal.campaign_recipients)
 * and export jobs (portal.export_jobs). Both are built by other features and
 * may not exist yet, or may lack a `status` column: to_regclass and
 * information_schema guard each query, and any error yields no figures rather
 * than a failed scrape.
 */
export async function readOtherFeatureCounts(knex: Knex): Promise<{ present: StatusCount['table'][]; rows: StatusCount[] }> {
  const out: StatusCount[] = [];
  const present: StatusCount['table'][] = [];
  for (const table of ['campaign_recipients', 'export_jobs'] as const) {
    try {
      const exists = await knex.raw<{ rows: Array<{ present: boolean; has_status: boolean }> }>(
        `SELECT to_regclass(?) IS NOT NULL AS present,
                EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'portal' AND table_name = ? AND column_name = 'status') AS has_status`,
        [`portal.${table}`, table],
      );
      const { has_status } = exists.rows[0]!;
      if (!exists.rows[0]!.present) continue;
      present.push(table);
      const rows = has_status
        ? await knex.raw<{ rows: Array<{ status: string; n: string | number }> }>(`SELECT status::text AS status, count(*) AS n FROM portal.${table} GROUP BY 1`)
        : await knex.raw<{ rows: Array<{ status: string; n: string | number }> }>(`SELECT 'all' AS status, count(*) AS n FROM portal.${table}`);
      for (const r of rows.rows) out.push({ table, status: r.status ?? 'null', count: Number(r.n) });
    } catch {
      // another feature's table mid-migration: report nothing for it this scrape
    }
  }
  return { present, rows: out };
}
