import fs from 'node:fs';
import type { Knex } from 'knex';
import { BadSource } from './errors';
import { classifyPath, looksLikeImage } from './naming';
import { walkFiles, type WalkStats, type WalkedFile } from './walk';
import { createInspector, mapLimit } from './pool';
import { knownFiles, linkDerivedFiles, markMissing, mediaCounts, saveBatch, type FileRow, type MediaCounts } from './repo';
import { silentProgress, type ProgressBar } from '../../cli/progress-bar';

export type EraOption = 'old' | 'new' | 'auto';

export interface CatalogueOptions {
  era: EraOption;
  incidentAt: Date;
  progress?: ProgressBar;
  batchSize?: number;
  threads?: number;
}

export interface CatalogueRun {
  seen: number;
  hashed: number;
  unchanged: number;
  bytesHashed: number;
  /** Wall time of the walk, hashing and commits (process start and migrations excluded). */
  elapsedMs: number;
  warnings: string[];
  counts: MediaCounts;
}

/** Old or new era: forced by the operator, else by the upload second in the name, else by mtime. */
export function eraOf(opt: EraOption, uploadedAt: Date | null, mtimeMs: number, incidentAt: Date): Pick<FileRow, 'era' | 'era_basis'> {
  if (opt !== 'auto') return { era: opt, era_basis: 'option' };
  if (uploadedAt) return { era: uploadedAt < incidentAt ? 'old' : 'new', era_basis: 'name' };
  return { era: mtimeMs < incidentAt.getTime() ? 'old' : 'new', era_basis: 'mtime' };
}

function fileRow(sourceId: number, f: WalkedFile, sha256: string, opts: CatalogueOptions): FileRow {
  const named = classifyPath(f.rel);
  return {
    source_id: sourceId,
    rel_path: f.rel,
    size: f.size,
    mtime_ms: f.mtimeMs,
    sha256,
    kind: named.kind,
    ...eraOf(opts.era, named.uploadedAt, f.mtimeMs, opts.incidentAt),
    old_user_id: named.oldUserId,
    display_id: named.displayId,
    uploaded_at: named.uploadedAt,
    stem: named.stem,
    original_stem: named.originalStem,
    game_folder: named.gameFolder,
  };
}

async function countFiles(root: string): Promise<number> {
  let n = 0;
  for await (const _ of walkFiles(root)) n++;
  return n;
}

/**
 * Catalogues every file under `root` (read-only) into source `sourceId`.
 * Batches commit as they finish, so a killed run keeps what it did; files whose
 * size and mtime match the catalogue are not read again.
 */
export async function catalogueTree(knex: Knex, sourceId: number, root: string, opts: CatalogueOptions): Promise<CatalogueRun> {
  const started = Date.now();
  const progress = opts.progress ?? silentProgress;
  const batchSize = opts.batchSize ?? 200;
  const inspector = createInspector(opts.threads);
  const stats: WalkStats = { symlinksSkipped: 0, unreadable: [] };
  const run = { seen: 0, hashed: 0, unchanged: 0, bytesHashed: 0, warnings: [] as string[] };
  if (progress !== silentProgress) progress.start(await countFiles(root), 'cataloguing');
  // One batch commits while the next is read and hashed; a kill loses at most the two in flight.
  let saving: Promise<void> = Promise.resolve();
  const seen = new Set<string>();
  const flush = async (batch: WalkedFile[]) => {
    const known = await knownFiles(knex, sourceId, batch.map((f) => f.rel));
    const todo = batch.filter((f) => {
      const k = known.get(f.rel);
      return !k || k.size !== f.size || k.mtime_ms !== f.mtimeMs;
    });
    run.unchanged += batch.length - todo.length;
    progress.tick(batch.length - todo.length);
    const items = await mapLimit(todo, inspector.concurrency, async (f) => {
      const blob = await inspector.inspect({ file: f.abs, image: looksLikeImage(f.rel) }).catch((err: Error) => {
        run.warnings.push(`${f.rel}: unreadable (${err.message.split('\n')[0]})`);
        return null;
      });
      progress.tick();
      if (!blob) return null;
      if (blob.warning) run.warnings.push(`${f.rel}: ${blob.warning}`);
      // Catalogue what was hashed: a file that grew while being read is recorded as read.
      return { file: fileRow(sourceId, { ...f, size: blob.size }, blob.sha256, opts), blob };
    });
    const done = items.filter((i): i is NonNullable<typeof i> => i !== null);
    await saving;
    saving = saveBatch(knex, done).then(() => {
      run.hashed += done.length;
      run.bytesHashed += done.reduce((a, i) => a + i.blob.size, 0);
    });
    saving.catch(() => undefined); // awaited (and thrown) by the next batch or the end of the walk
  };
  try {
    let batch: WalkedFile[] = [];
    for await (const f of walkFiles(root, stats)) {
      run.seen++;
      seen.add(f.rel);
      batch.push(f);
      if (batch.length >= batchSize) {
        await flush(batch);
        batch = [];
      }
    }
    await flush(batch);
    await saving;
  } finally {
    progress.stop();
    await inspector.close();
  }
  await linkDerivedFiles(knex, sourceId);
  const missing = await markMissing(knex, sourceId, seen);
  if (missing) run.warnings.push(`${missing} catalogued files are no longer in the tree (kept, marked missing)`);
  if (stats.symlinksSkipped) run.warnings.push(`${stats.symlinksSkipped} symbolic links not followed`);
  run.warnings.push(...stats.unreadable.map((u) => `unreadable: ${u}`));
  const counts = await mediaCounts(knex, sourceId);
  return { ...run, elapsedMs: Date.now() - started, counts };
}

/** The tree's real path, or a clear error when it is not a readable directory. */
export function resolveTree(dir: string): string {
  let real: string;
  try {
    real = fs.realpathSync(dir);
  } catch {
    throw new BadSource(`${dir}: no such directory`);
  }
  if (!fs.statSync(real).isDirectory()) throw new BadSource(`${dir}: not a directory`);
  return real;
}
