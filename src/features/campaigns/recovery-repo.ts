import type { Knex } from 'knex';

/** Known addresses per source label (an address found in two sources counts in both). */
export async function countAddressesBySource(db: Knex): Promise<{ total: number; sources: Array<{ source: string; n: number }> }> {
  const [totalRow] = await db('portal.addresses').count<Array<{ n: string }>>({ n: '*' });
  const r = await db.raw<{ rows: Array<{ source: string; n: string }> }>(
    `SELECT s AS source, count(*) AS n FROM portal.addresses, unnest(sources) AS s GROUP BY s ORDER BY count(*) DESC, s LIMIT 10`,
  );
  return { total: Number(totalRow!.n), sources: r.rows.map((x) => ({ source: x.source, n: Number(x.n) })) };
}

/** Over every campaign, distinct addresses: sent, clicked, and now present in TOYBOX's users (re-registered). */
export async function invitationFunnel(db: Knex): Promise<{ campaigns: number; sent: number; clicked: number; reregistered: number; queued: number }> {
  const r = await db.raw<{ rows: Array<Record<string, string>> }>(
    `SELECT (SELECT count(*) FROM portal.campaigns WHERE status <> 'draft') AS campaigns,
            count(DISTINCT email_key) FILTER (WHERE status = 'sent') AS sent,
            count(DISTINCT email_key) FILTER (WHERE status IN ('queued', 'sending')) AS queued,
            count(DISTINCT email_key) FILTER (WHERE clicked_at IS NOT NULL) AS clicked,
            (SELECT count(DISTINCT r2.email_key) FROM portal.campaign_recipients r2
               JOIN public.users u ON lower(u.email) = r2.email_key WHERE r2.status = 'sent') AS reregistered
       FROM portal.campaign_recipients`,
  );
  const row = r.rows[0]!;
  return { campaigns: Number(row.campaigns), sent: Number(row.sent), queued: Number(row.queued), clicked: Number(row.clicked), reregistered: Number(row.reregistered) };
}
