import type { Knex } from 'knex';
import type { Inspection } from './inspect';

export type SourceKind = 'media' | 'database' | 'logs' | 'discord';

export interface SourceRow {
  id: number;
  kind: SourceKind;
  locator: string;
  fingerprint: string;
  status: 'running' | 'complete' | 'failed';
  schema_name: string | null;
  details: Record<string, unknown>;
  warnings: string[];
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
}

export interface FileRow {
  source_id: number;
  rel_path: string;
  size: number;
  mtime_ms: number;
  sha256: string;
  kind: string;
  era: 'old' | 'new';
  era_basis: 'option' | 'name' | 'mtime';
  old_user_id: number | null;
  display_id: string | null;
  uploaded_at: Date | null;
  /** Originals: the uploads-relative name without extension, what derived files point at. */
  stem: string | null;
  original_stem: string | null;
  game_folder: string | null;
}

const SOURCES = 'portal.salvage_sources';
const FILES = 'portal.salvage_files';
const BLOBS = 'portal.salvage_blobs';
const FACTS = 'portal.salvage_facts';

/** The source row for this thing, created on first sight (a re-run finds the same row). */
export async function findOrCreateSource(knex: Knex, kind: SourceKind, fingerprint: string, locator: string): Promise<SourceRow> {
  await knex(SOURCES).insert({ kind, fingerprint, locator }).onConflict(['kind', 'fingerprint']).ignore();
  return (await knex(SOURCES).where({ kind, fingerprint }).first()) as SourceRow;
}

export async function getSource(knex: Knex, id: number): Promise<SourceRow | undefined> {
  return knex(SOURCES).where({ id }).first();
}

export async function listSources(knex: Knex): Promise<SourceRow[]> {
  return knex(SOURCES).orderBy('id');
}

export async function markSource(knex: Knex | Knex.Transaction, id: number, patch: Partial<Pick<SourceRow, 'status' | 'details' | 'warnings' | 'error' | 'schema_name' | 'locator'>> & { finished?: boolean; started?: boolean }): Promise<void> {
  const { finished, started, details, warnings, ...rest } = patch;
  await knex(SOURCES)
    .where({ id })
    .update({
      ...rest,
      ...(details ? { details: JSON.stringify(details) } : {}),
      ...(warnings ? { warnings: JSON.stringify(warnings) } : {}),
      ...(finished ? { finished_at: knex.fn.now() } : {}),
      ...(started ? { started_at: knex.fn.now(), finished_at: null } : {}),
    });
}

/** Size and mtime of the already catalogued names among `relPaths`: what lets a re-run skip hashing. */
export async function knownFiles(knex: Knex, sourceId: number, relPaths: string[]): Promise<Map<string, { size: number; mtime_ms: number }>> {
  const rows = await knex(FILES).where({ source_id: sourceId }).whereIn('rel_path', relPaths).select('rel_path', 'size', 'mtime_ms');
  return new Map(rows.map((r: { rel_path: string; size: number; mtime_ms: number }) => [r.rel_path, { size: Number(r.size), mtime_ms: Number(r.mtime_ms) }]));
}

/** One batch in one transaction: blobs first (same bytes, one row), then the names pointing at them. */
export async function saveBatch(knex: Knex, items: Array<{ file: FileRow; blob: Inspection }>): Promise<void> {
  if (!items.length) return;
  await knex.transaction(async (trx) => {
    const blobs = new Map(items.map(({ blob }) => [blob.sha256, blob]));
    await trx(BLOBS)
      .insert(
        [...blobs.values()].map((b) => ({
          sha256: b.sha256,
          size: b.size,
          phash: b.phash,
          width: b.width,
          height: b.height,
          format: b.format,
          metadata: b.metadata ? JSON.stringify(b.metadata) : null,
          warning: b.warning,
        })),
      )
      .onConflict('sha256')
      .ignore();
    await trx(FILES)
      .insert(items.map(({ file }) => file))
      .onConflict(['source_id', 'rel_path'])
      .merge(['size', 'mtime_ms', 'sha256', 'kind', 'era', 'era_basis', 'old_user_id', 'display_id', 'uploaded_at', 'stem', 'original_stem', 'game_folder', 'catalogued_at']);
  });
}

/** Links thumbnails and posters to the original with the same stem in the same tree (null when it is gone). */
export async function linkDerivedFiles(knex: Knex, sourceId: number): Promise<void> {
  await knex.raw(
    `UPDATE ${FILES} d SET original_path = o.rel_path
       FROM ${FILES} o
      WHERE d.source_id = ? AND d.original_stem IS NOT NULL
        AND o.source_id = d.source_id AND o.stem = d.original_stem
        AND d.original_path IS DISTINCT FROM o.rel_path`,
    [sourceId],
  );
}

export interface MediaCounts {
  files: number;
  bytes: number;
  blobs: number;
  duplicate_names: number;
  by_kind: Record<string, number>;
  by_era: Record<string, number>;
  derived_linked: number;
  derived_unlinked: number;
  unreadable_images: number;
  with_metadata: number;
  /** Catalogued earlier, not found by the latest run (rows kept). */
  missing: number;
}

/** Exact counts of what a media source holds, from the catalogue itself. */
export async function mediaCounts(knex: Knex, sourceId: number): Promise<MediaCounts> {
  const { rows } = await knex.raw(
    `SELECT count(*)::int AS files, coalesce(sum(f.size), 0)::bigint AS bytes, count(DISTINCT f.sha256)::int AS blobs,
            count(*) FILTER (WHERE f.original_stem IS NOT NULL AND f.original_path IS NOT NULL)::int AS derived_linked,
            count(*) FILTER (WHERE f.original_stem IS NOT NULL AND f.original_path IS NULL)::int AS derived_unlinked,
            count(DISTINCT f.sha256) FILTER (WHERE b.warning IS NOT NULL)::int AS unreadable_images,
            count(DISTINCT f.sha256) FILTER (WHERE b.metadata IS NOT NULL)::int AS with_metadata,
            count(*) FILTER (WHERE f.missing_since IS NOT NULL)::int AS missing
       FROM ${FILES} f JOIN ${BLOBS} b USING (sha256) WHERE f.source_id = ?`,
    [sourceId],
  );
  const byKind = await knex(FILES).where({ source_id: sourceId }).groupBy('kind').select('kind').count<{ kind: string; count: string }[]>('* as count');
  const byEra = await knex(FILES).where({ source_id: sourceId }).groupBy('era').select('era').count<{ era: string; count: string }[]>('* as count');
  const r = rows[0];
  return {
    files: r.files,
    bytes: Number(r.bytes),
    blobs: r.blobs,
    duplicate_names: r.files - r.blobs,
    by_kind: Object.fromEntries(byKind.map((k) => [k.kind, Number(k.count)])),
    by_era: Object.fromEntries(byEra.map((k) => [k.era, Number(k.count)])),
    derived_linked: r.derived_linked,
    derived_unlinked: r.derived_unlinked,
    unreadable_images: r.unreadable_images,
    with_metadata: r.with_metadata,
    missing: r.missing,
  };
}

export interface FactRow {
  source_id: number;
  ref: string;
  kind: string;
  old_user_id: number | null;
  display_id: string | null;
  display_name: string | null;
  occurred_at: Date | null;
  file_name: string | null;
  sha256: string | null;
  details: Record<string, unknown>;
  source_line: string;
}

/** Facts are keyed by (source, ref, kind): reading the same lines again adds nothing. */
export async function saveFacts(knex: Knex, facts: FactRow[]): Promise<number> {
  if (!facts.length) return 0;
  const inserted = await knex(FACTS)
    .insert(facts.map((f) => ({ ...f, details: JSON.stringify(f.details) })))
    .onConflict(['source_id', 'ref', 'kind'])
    .ignore()
    .returning('id');
  return inserted.length;
}

export async function factCounts(knex: Knex, sourceId: number): Promise<Record<string, number>> {
  const rows = await knex(FACTS).where({ source_id: sourceId }).groupBy('kind').select('kind').count<{ kind: string; count: string }[]>('* as count');
  return Object.fromEntries(rows.map((r) => [r.kind, Number(r.count)]));
}

/** Rows per table of a loaded old database, counted where it now lives (schema salvage_<id>). */
export async function countSchemaTables(knex: Knex, schema: string): Promise<Record<string, number>> {
  const { rows } = await knex.raw<{ rows: Array<{ table_name: string }> }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name",
    [schema],
  );
  const out: Record<string, number> = {};
  for (const { table_name } of rows) {
    const r = await knex.withSchema(schema).from(table_name).count<{ n: string }[]>('* as n');
    out[table_name] = Number(r[0]!.n);
  }
  return out;
}

/** Drops what a failed or killed load left of a salvage schema (only ever a salvage_<id> name). */
export async function dropSalvageSchema(knex: Knex, schema: string): Promise<void> {
  if (!/^salvage_\d+$/.test(schema)) throw new Error(`refusing to drop ${schema}`);
  await knex.raw(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}

/** Where a catalogued image can be read now: its tree and name, for staff thumbnails (null when not an image). */
export async function imageLocation(knex: Knex, sha256: string): Promise<{ root: string; rel_path: string } | null> {
  const row = await knex(`${FILES} as f`)
    .join(`${BLOBS} as b`, 'b.sha256', 'f.sha256')
    .join(`${SOURCES} as s`, 's.id', 'f.source_id')
    .where({ 'f.sha256': sha256, 's.kind': 'media' })
    .whereNotNull('b.width')
    .first('s.locator as root', 'f.rel_path');
  return row ?? null;
}

/**
 * After a complete walk: names not seen any more get `missing_since` (kept, as
 * evidence); names seen again lose it. Returns how many are missing now.
 */
export async function markMissing(knex: Knex, sourceId: number, seen: Set<string>): Promise<number> {
  const rows = (await knex(FILES).where({ source_id: sourceId }).select('rel_path', 'missing_since')) as Array<{ rel_path: string; missing_since: Date | null }>;
  const gone = rows.filter((r) => !seen.has(r.rel_path) && !r.missing_since).map((r) => r.rel_path);
  const back = rows.filter((r) => seen.has(r.rel_path) && r.missing_since).map((r) => r.rel_path);
  for (let i = 0; i < gone.length; i += 1000) await knex(FILES).where({ source_id: sourceId }).whereIn('rel_path', gone.slice(i, i + 1000)).update({ missing_since: knex.fn.now() });
  for (let i = 0; i < back.length; i += 1000) await knex(FILES).where({ source_id: sourceId }).whereIn('rel_path', back.slice(i, i + 1000)).update({ missing_since: null });
  return rows.filter((r) => !seen.has(r.rel_path)).length;
}
