import type { Knex } from 'knex';

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

/** Whether this source has any catalogued file yet (a first run need not look names up). */
export async function hasFiles(knex: Knex, sourceId: number): Promise<boolean> {
  return !!(await knex(FILES).where({ source_id: sourceId }).first('id'));
}

/**
 * Fresh planner statistics for the catalogue tables. Without them (a table just filled, or
 * emptied and refilled) PostgreSQL guesses one row per source and looks each batch of names up
 * by scanning the whole source: a first run slows quadratically, a re-run crawls.
 */
export async function analyseCatalogue(knex: Knex): Promise<void> {
  await knex.raw(`ANALYZE ${FILES}, ${BLOBS}`);
}

/** Size and mtime of the already catalogued names among `relPaths`: what lets a re-run skip hashing. */
export async function knownFiles(knex: Knex, sourceId: number, relPaths: string[]): Promise<Map<string, { size: number; mtime_ms: number }>> {
  if (!relPaths.length) return new Map();
  const { rows } = await knex.raw<{ rows: Array<{ rel_path: string; size: string; mtime_ms: string }> }>(
    `SELECT rel_path, size, mtime_ms FROM ${FILES} WHERE source_id = ? AND rel_path = ANY (ARRAY(SELECT json_array_elements_text(?::json)))`,
    [sourceId, JSON.stringify(relPaths)],
  );
  return new Map(rows.map((r) => [r.rel_path, { size: Number(r.size), mtime_ms: Number(r.mtime_ms) }]));
}

const FILE_COLUMNS = 'rel_path text, size bigint, mtime_ms bigint, sha256 text, kind text, era text, era_basis text, old_user_id integer, display_id text, uploaded_at timestamptz, stem text, original_stem text, game_folder text';
const FILE_NAMES = FILE_COLUMNS.split(', ').map((c) => c.split(' ')[0]!);

/**
 * One batch in one transaction: blobs first (same bytes, one row), then the names pointing at them.
 * Each table gets one statement whatever the batch size (rows travel as one JSON parameter).
 * The commit need not wait for the disk (synchronous_commit off): a crash can lose only the
 * last batches, never leave half of one, and a re-run redoes what is missing.
 */
export async function saveBatch(knex: Knex, sourceId: number, items: Array<{ file: Omit<FileRow, 'source_id'> }>): Promise<void> {
  if (!items.length) return;
  // Blobs in key order: two batches committing at once wait for each other on a shared
  // content instead of deadlocking.
  const blobs = [...new Map(items.map(({ file }) => [file.sha256, file.size]))].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  await knex.transaction(async (trx) => {
    await trx.raw('SET LOCAL synchronous_commit TO off');
    await trx.raw(`INSERT INTO ${BLOBS} (sha256, size) SELECT sha256, size FROM json_to_recordset(?::json) AS x(sha256 text, size bigint) ON CONFLICT (sha256) DO NOTHING`, [
      JSON.stringify(blobs.map(([sha256, size]) => ({ sha256, size }))),
    ]);
    await trx.raw(
      `INSERT INTO ${FILES} (source_id, ${FILE_NAMES.join(', ')})
       SELECT ?, ${FILE_NAMES.map((c) => `x.${c}`).join(', ')} FROM json_to_recordset(?::json) AS x(${FILE_COLUMNS})
       ON CONFLICT (source_id, rel_path) DO UPDATE SET ${FILE_NAMES.filter((c) => c !== 'rel_path').map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, catalogued_at = now()`,
      [sourceId, JSON.stringify(items.map(({ file }) => file))],
    );
  });
}

/** Names like an image (by extension), as a PostgreSQL regular expression over lower(rel_path). */
const imageNamePattern = (exts: Iterable<string>) => `\\.(${[...exts].map((e) => e.slice(1)).join('|')})$`;

/**
 * Blobs of this source still waiting for the image pass: a file named like an image holds them and
 * neither a perceptual hash nor a decode warning was recorded. Keyset pages by sha256.
 */
export async function pendingImages(knex: Knex, sourceId: number, imageExts: Iterable<string>, maxSize: number, after: string, limit: number): Promise<Array<{ sha256: string; rel_path: string }>> {
  const { rows } = await knex.raw<{ rows: Array<{ sha256: string; rel_path: string }> }>(
    `SELECT DISTINCT ON (b.sha256) b.sha256, f.rel_path
       FROM ${FILES} f JOIN ${BLOBS} b USING (sha256)
      WHERE f.source_id = ? AND f.missing_since IS NULL AND b.phash IS NULL AND b.warning IS NULL
        AND b.size <= ? AND b.sha256 > ? AND lower(f.rel_path) ~ ?
      ORDER BY b.sha256, f.rel_path LIMIT ?`,
    [sourceId, maxSize, after, imageNamePattern(imageExts), limit],
  );
  return rows;
}

export async function countPendingImages(knex: Knex, sourceId: number, imageExts: Iterable<string>, maxSize: number): Promise<number> {
  const { rows } = await knex.raw<{ rows: Array<{ n: number }> }>(
    `SELECT count(DISTINCT b.sha256)::int AS n FROM ${FILES} f JOIN ${BLOBS} b USING (sha256)
      WHERE f.source_id = ? AND f.missing_since IS NULL AND b.phash IS NULL AND b.warning IS NULL AND b.size <= ? AND lower(f.rel_path) ~ ?`,
    [sourceId, maxSize, imageNamePattern(imageExts)],
  );
  return rows[0]!.n;
}

export interface ImageFactsRow {
  sha256: string;
  phash: string | null;
  width: number | null;
  height: number | null;
  format: string | null;
  metadata: Record<string, unknown> | null;
  warning: string | null;
}

/** What the image pass learnt, one statement per page (a blob already decoded by another run is left as it is). */
export async function saveImageFacts(knex: Knex, facts: ImageFactsRow[]): Promise<void> {
  if (!facts.length) return;
  await knex.transaction(async (trx) => {
    await trx.raw('SET LOCAL synchronous_commit TO off');
    await trx.raw(
      `UPDATE ${BLOBS} b SET phash = x.phash, width = x.width, height = x.height, format = x.format, metadata = x.metadata, warning = x.warning
         FROM json_to_recordset(?::json) AS x(sha256 text, phash text, width integer, height integer, format text, metadata jsonb, warning text)
        WHERE b.sha256 = x.sha256 AND b.phash IS NULL AND b.warning IS NULL`,
      [JSON.stringify(facts)],
    );
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

/** The names one walk saw, as 64-bit digests in one sorted typed array (8 bytes a name, not a string each). */
export interface SeenNames {
  has(relPath: string): boolean;
}

/**
 * After a complete walk: names not seen any more get `missing_since` (kept, as
 * evidence); names seen again lose it. Reads the catalogue in pages, so memory
 * does not grow with the tree. Returns how many are missing now.
 */
export async function markMissing(knex: Knex, sourceId: number, seen: SeenNames): Promise<number> {
  let missing = 0;
  let after = 0;
  for (;;) {
    const rows = (await knex(FILES).where({ source_id: sourceId }).andWhere('id', '>', after).orderBy('id').limit(5000).select('id', 'rel_path', 'missing_since')) as Array<{ id: string; rel_path: string; missing_since: Date | null }>;
    if (!rows.length) break;
    after = Number(rows[rows.length - 1]!.id);
    const gone: string[] = [];
    const back: string[] = [];
    for (const r of rows) {
      const here = seen.has(r.rel_path);
      if (!here) missing++;
      if (!here && !r.missing_since) gone.push(r.id);
      if (here && r.missing_since) back.push(r.id);
    }
    if (gone.length) await knex(FILES).whereIn('id', gone).update({ missing_since: knex.fn.now() });
    if (back.length) await knex(FILES).whereIn('id', back).update({ missing_since: null });
  }
  return missing;
}
