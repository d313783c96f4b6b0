import type { Knex } from 'knex';

export interface AddressRow {
  email: string;
  email_key: string;
  display_id: string | null;
  name: string | null;
  lang: 'ja' | 'en';
  sources: string[];
}

/**
 * Inserts new addresses and merges known ones (sources are unioned, a missing
 * display id or name is filled in). A row that would not change is not
 * touched at all, so re-importing a file writes nothing.
 */
export async function upsertAddresses(db: Knex | Knex.Transaction, rows: AddressRow[]): Promise<{ inserted: number; updated: number }> {
  if (rows.length === 0) return { inserted: 0, updated: 0 };
  const res = await db.raw<{ rows: Array<{ inserted: string; updated: string }> }>(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset(?::jsonb)
         AS t(email text, email_key text, display_id text, name text, lang text, sources text[])
     ), up AS (
       INSERT INTO portal.addresses AS a (email, email_key, display_id, name, lang, sources)
       SELECT email, email_key, display_id, name, lang, sources FROM input
       ON CONFLICT (email_key) DO UPDATE SET
         sources = ARRAY(SELECT DISTINCT s FROM unnest(a.sources || excluded.sources) AS s ORDER BY s),
         display_id = coalesce(a.display_id, excluded.display_id),
         name = coalesce(a.name, excluded.name),
         updated_at = now()
       WHERE NOT (excluded.sources <@ a.sources)
          OR (a.display_id IS NULL AND excluded.display_id IS NOT NULL)
          OR (a.name IS NULL AND excluded.name IS NOT NULL)
       RETURNING (xmax = 0) AS inserted
     )
     SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM up`,
    [JSON.stringify(rows)],
  );
  const r = res.rows[0]!;
  return { inserted: Number(r.inserted), updated: Number(r.updated) };
}

export async function countAddresses(db: Knex): Promise<number> {
  const r = await db('portal.addresses').count<{ n: string }[]>({ n: '*' });
  return Number(r[0]!.n);
}

export async function listAddresses(db: Knex, limit: number, offset: number) {
  return db('portal.addresses').select('email', 'display_id', 'name', 'lang', 'sources', 'created_at').orderBy('id').limit(limit).offset(offset);
}

export interface ImportRun {
  id: number;
  filename: string;
  status: 'pending' | 'running' | 'done' | 'failed';
  total: number;
  processed: number;
  result: unknown;
  error: string | null;
  created_at: Date;
}

export async function insertImportRun(db: Knex | Knex.Transaction, filename: string, actor: string): Promise<number> {
  const [row] = await db('portal.address_imports').insert({ filename, created_by: actor, status: 'running' }).returning('id');
  return Number(row.id);
}

export async function updateImportRun(db: Knex, id: number, patch: Partial<Pick<ImportRun, 'status' | 'total' | 'processed' | 'result' | 'error'>> & { finished?: boolean }) {
  const { finished, result, ...rest } = patch;
  await db('portal.address_imports')
    .where({ id })
    .update({ ...rest, ...(result !== undefined ? { result: JSON.stringify(result) } : {}), ...(finished ? { finished_at: db.fn.now() } : {}) });
}

export async function findImportRun(db: Knex, id: number): Promise<ImportRun | undefined> {
  return db('portal.address_imports').where({ id }).first();
}

export async function recentImportRuns(db: Knex, limit = 10): Promise<ImportRun[]> {
  return db('portal.address_imports').orderBy('id', 'desc').limit(limit);
}
