import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Knex } from 'knex';
import { BadSource } from './errors';
import { classifyPath, IMAGE_EXT } from './naming';
import { countFiles, walkFiles, type WalkStats, type WalkedFile } from './walk';
import { createWorkers, type Workers } from './pool';
import { mapLimit } from '../../system/map-limit';
import { DECODE_LIMIT, type HashTask, type Hashed } from './inspect';
import { SeenNameSet } from './seen-names';
import { analyseCatalogue, countPendingImages, hasFiles, knownFiles, linkDerivedFiles, markMissing, mediaCounts, pendingImages, saveBatch, saveImageFacts, type FileRow, type ImageFactsRow, type MediaCounts } from './repo';
import { silentProgress, type ProgressBar } from '../../cli/progress-bar';

export type EraOption = 'old' | 'new' | 'auto';

export interface CatalogueOptions {
  era: EraOption;
  incidentAt: Date;
  progress?: ProgressBar;
  /** Files per committed batch (what a kill can lose, twice over). */
  batchSize?: number;
  /** Worker threads; default every core when workers can load (pool.ts). */
  threads?: number;
  /** Skip the image pass (a later run does it: pending images are found again). */
  skipImages?: boolean;
}

export interface CatalogueRun {
  seen: number;
  hashed: number;
  unchanged: number;
  bytesHashed: number;
  /** Distinct contents decoded by the image pass of this run. */
  imagesDecoded: number;
  /** Images still waiting for the image pass (skipped, unreadable or changed). */
  imagesPending: number;
  /** Wall time of the walk, hashing and commits (process start and migrations excluded). */
  catalogueMs: number;
  /** Wall time of the image pass. */
  imagesMs: number;
  /** Wall time of both passes and the bookkeeping around them. */
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

function fileRow(f: WalkedFile, sha256: string, size: number, opts: CatalogueOptions): Omit<FileRow, 'source_id'> {
  const named = classifyPath(f.rel);
  return {
    rel_path: f.rel,
    size,
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

// A worker message carries up to this many files or bytes: few messages, and big files spread evenly.
const CHUNK_FILES = 250;
const CHUNK_BYTES = 32 * 1024 * 1024;
// Batches in flight besides the one being walked.
const IN_FLIGHT_BATCHES = 2;
const IMAGE_PAGE = 200;
const MAX_WARNINGS = 1000;

/**
 * A full garbage collection when the heap passes 48 MB. Each batch's rows wait on PostgreSQL
 * long enough to be promoted to V8's old generation, and V8 (sized for a 2-4 GB heap) lets that
 * garbage pile up to ~200 MB before collecting it; collecting at 48 MB keeps the process well
 * under 200 MB for ~30 ms a time. `--expose-gc` only adds the `gc` function.
 */
function heapGuard(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  return () => {
    if (v8.getHeapStatistics().used_heap_size > HEAP_GC_BYTES) gc();
  };
}
const HEAP_GC_BYTES = 48 * 1024 * 1024;
const GC_CHECK_EVERY_FILES = 1000;
const GC_CHECK_EVERY_PAGES = 5;

async function hashAll(workers: Workers, files: WalkedFile[]): Promise<Hashed[]> {
  const chunks: HashTask[][] = [];
  let chunk: HashTask[] = [];
  let bytes = 0;
  for (const f of files) {
    if (chunk.length >= CHUNK_FILES || (chunk.length && bytes + f.size > CHUNK_BYTES)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push({ file: f.abs, size: f.size });
    bytes += f.size;
  }
  if (chunk.length) chunks.push(chunk);
  return (await Promise.all(chunks.map((c) => workers.hash(c)))).flat();
}

/**
 * Catalogues every file under `root` (read-only) into source `sourceId`, in two passes:
 * 1. walk, SHA-256 and names: batches commit as they finish, so a killed run keeps what it did,
 *    and files whose size and mtime match the catalogue are not read again;
 * 2. images: each distinct content named like an image and not yet decoded is decoded once
 *    (size, perceptual hash, kept metadata); pages commit as they finish, and a later run picks
 *    up whatever is still pending.
 */
export async function catalogueTree(knex: Knex, sourceId: number, root: string, opts: CatalogueOptions): Promise<CatalogueRun> {
  const started = Date.now();
  const progress = opts.progress ?? silentProgress;
  const batchSize = opts.batchSize ?? 1000;
  const workers = createWorkers(opts.threads);
  const stats: WalkStats = { symlinksSkipped: 0, unreadable: [] };
  const run = { seen: 0, hashed: 0, unchanged: 0, bytesHashed: 0, imagesDecoded: 0, imagesPending: 0, catalogueMs: 0, imagesMs: 0 };
  const warnings: string[] = [];
  let unlisted = 0;
  const warn = (w: string) => (warnings.length < MAX_WARNINGS ? warnings.push(w) : unlisted++);
  const seen = new SeenNameSet();
  const gc = heapGuard();
  let sinceGc = 0;

  // Up to four batches in flight: looked up, hashed and committed concurrently (several
  // connections at once: PostgreSQL's inserts and look-ups are the slowest part).
  const inFlight: Promise<void>[] = [];
  let firstRun = false;
  const processBatch = async (batch: WalkedFile[]): Promise<void> => {
    const known = firstRun ? new Map<string, { size: number; mtime_ms: number }>() : await knownFiles(knex, sourceId, batch.map((f) => f.rel));
    const todo = batch.filter((f) => {
      const k = known.get(f.rel);
      return !k || k.size !== f.size || k.mtime_ms !== f.mtimeMs;
    });
    run.unchanged += batch.length - todo.length;
    progress.tick(batch.length - todo.length);
    const hashed = await hashAll(workers, todo);
    const rows: Array<{ file: Omit<FileRow, 'source_id'> }> = [];
    let bytes = 0;
    hashed.forEach((h, i) => {
      const f = todo[i]!;
      if ('error' in h) return warn(`${f.rel}: unreadable (${h.error})`);
      // Catalogue what was hashed: a file that grew while being read is recorded as read.
      rows.push({ file: fileRow(f, h.sha256, h.size, opts) });
      bytes += h.size;
    });
    await saveBatch(knex, sourceId, rows);
    run.hashed += rows.length;
    run.bytesHashed += bytes;
    progress.tick(todo.length);
  };

  try {
    if (progress !== silentProgress) progress.start(await countFiles(root), 'cataloguing');
    // A source with no files yet has nothing to look up (the lock keeps other runs off it);
    // otherwise the planner needs current statistics to look names up by index.
    firstRun = !(await hasFiles(knex, sourceId));
    if (!firstRun) await analyseCatalogue(knex);
    let batch: WalkedFile[] = [];
    const send = async () => {
      const p = processBatch(batch);
      p.catch(() => undefined); // awaited below
      inFlight.push(p);
      batch = [];
      if (inFlight.length > IN_FLIGHT_BATCHES) await inFlight.shift();
    };
    for await (const f of walkFiles(root, stats)) {
      run.seen++;
      seen.add(f.rel);
      batch.push(f);
      if (batch.length >= batchSize) await send();
      if (++sinceGc >= GC_CHECK_EVERY_FILES) {
        sinceGc = 0;
        gc();
      }
    }
    if (batch.length) await send();
    while (inFlight.length) await inFlight.shift();
    progress.stop();
    await workers.close(); // the hashing workers' memory goes back before the image pass
    run.catalogueMs = Date.now() - started;

    if (run.hashed) await analyseCatalogue(knex); // what follows joins the catalogue with itself
    await linkDerivedFiles(knex, sourceId);
    const missing = await markMissing(knex, sourceId, seen);
    if (missing) warn(`${missing} catalogued files are no longer in the tree (kept, marked missing)`);

    const imagesStarted = Date.now();
    if (opts.skipImages) run.imagesPending = await countPendingImages(knex, sourceId, IMAGE_EXT, DECODE_LIMIT);
    else ({ decoded: run.imagesDecoded, left: run.imagesPending } = await decodeImages(knex, sourceId, root, workers, progress, warn, gc));
    run.imagesMs = Date.now() - imagesStarted;
  } finally {
    await Promise.allSettled(inFlight);
    progress.stop();
    await workers.close();
  }
  if (stats.symlinksSkipped) warn(`${stats.symlinksSkipped} symbolic links not followed`);
  for (const u of stats.unreadable) warn(`unreadable: ${u}`);
  if (unlisted) warnings.push(`... and ${unlisted} more warnings`);
  const counts = await mediaCounts(knex, sourceId);
  return { ...run, warnings, elapsedMs: Date.now() - started, counts };
}

/** The image pass: decodes each pending distinct content once, a page at a time; returns how many were decoded and how many are left. */
async function decodeImages(knex: Knex, sourceId: number, root: string, workers: Workers, progress: ProgressBar, warn: (w: string) => void, gc: () => void): Promise<{ decoded: number; left: number }> {
  const total = await countPendingImages(knex, sourceId, IMAGE_EXT, DECODE_LIMIT);
  if (!total) return { decoded: 0, left: 0 };
  let left = 0;
  if (progress !== silentProgress) progress.start(total, 'images');
  let decoded = 0;
  let after = '';
  let pages = 0;
  let saving: Promise<void> = Promise.resolve();
  try {
    for (;;) {
      const page = await pendingImages(knex, sourceId, IMAGE_EXT, DECODE_LIMIT, after, IMAGE_PAGE);
      if (!page.length) break;
      after = page[page.length - 1]!.sha256;
      if (++pages % GC_CHECK_EVERY_PAGES === 0) gc();
      const results = await mapLimit(page, workers.threads, async (p) => {
        const r = await workers.analyse({ file: path.join(root, p.rel_path), sha256: p.sha256 });
        progress.tick();
        return r;
      });
      const facts: ImageFactsRow[] = [];
      results.forEach((r, i) => {
        const p = page[i]!;
        if (!r.ok) {
          left++;
          warn(`${p.rel_path}: ${r.changed ? 'changed since it was hashed' : `unreadable (${r.error})`}; its image facts wait for the next run`);
          return;
        }
        if (r.warning) warn(`${p.rel_path}: ${r.warning}`);
        facts.push({ sha256: p.sha256, phash: r.phash, width: r.width, height: r.height, format: r.format, metadata: r.metadata as Record<string, unknown> | null, warning: r.warning });
      });
      await saving;
      saving = saveImageFacts(knex, facts).then(() => {
        decoded += facts.length;
      });
      saving.catch(() => undefined); // awaited by the next page or below
    }
    await saving;
  } finally {
    progress.stop();
  }
  return { decoded, left };
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
