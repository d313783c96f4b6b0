import fs from 'node:fs';
import path from 'node:path';
import type { AppContext } from '../../app-context';
import { sha256File } from '../../files/sha256';
import { BadSource } from './errors';
import { scanDockerLog } from './logs';
import { scanDiscordExport } from './discord';
import { factCounts, imageLocation, listSources, saveFacts } from './repo';
import { lockedSourceIds } from './lock';
import { buildReport, type SalvageReport } from './report';
import { catalogueTree, resolveTree, type CatalogueRun, type EraOption } from './media-catalogue';
import type { SourceRow } from './repo';
import { withSource } from './service-core';
export { addDatabase } from './database-source';
import type { ProgressBar } from '../../cli/progress-bar';

/** `salvage add-media`: catalogue an uploads tree (idempotent, resumable). */
export async function addMedia(ctx: AppContext, dir: string, opts: { era: EraOption; progress?: ProgressBar; threads?: number; batchSize?: number; skipImages?: boolean }): Promise<{ source: SourceRow; run: CatalogueRun }> {
  const root = resolveTree(dir);
  const incidentAt = new Date(ctx.config.SALVAGE_INCIDENT_AT);
  const { source, result } = await withSource(ctx, 'media', `${root}`, root, async (src) => {
    const run = await catalogueTree(ctx.knex, src.id, root, { era: opts.era, incidentAt, progress: opts.progress, threads: opts.threads, batchSize: opts.batchSize, skipImages: opts.skipImages });
    return { result: run, details: { ...run.counts, era_option: opts.era }, warnings: run.warnings };
  });
  return { source, run: result };
}

/** `salvage add-logs`: facts (uploads, reactions, shares, SSO creations, points) from Docker json-file logs, each with its line. */
export async function addLogs(ctx: AppContext, files: string[]): Promise<Array<{ source: SourceRow; lines: number; facts: number; counts: Record<string, number> }>> {
  const out = [];
  for (const file of files) {
    const real = resolveFile(file);
    const { source, result } = await withSource(ctx, 'logs', `${real}:${await sha256File(real)}`, real, async (src) => {
      const scan = await scanDockerLog(real);
      if (scan.lines > 0 && scan.malformed === scan.lines) throw new BadSource(`${file}: not a Docker json-file log (no line is a {"log","stream","time"} record)`);
      await saveFacts(ctx.knex, scan.facts.map((f) => ({ ...f, source_id: src.id })));
      const counts = await factCounts(ctx.knex, src.id);
      const warnings = scan.malformed ? [`${scan.malformed} lines are not Docker log records`] : [];
      return { result: { lines: scan.lines, facts: scan.facts.length, counts }, details: { lines: scan.lines, facts: counts }, warnings };
    });
    out.push({ source, ...result });
  }
  return out;
}

/** `salvage add-discord`: TOYBOX bot shares from a DiscordChatExporter JSON export (streamed), tied to files by name and bytes. */
export async function addDiscord(ctx: AppContext, file: string): Promise<{ source: SourceRow; messages: number; facts: Record<string, number>; warnings: string[] }> {
  const real = resolveFile(file);
  const { source, result } = await withSource(ctx, 'discord', `${real}:${await sha256File(real)}`, real, async (src) => {
    const scan = await scanDiscordExport(real);
    await saveFacts(ctx.knex, scan.facts.map((f) => ({ ...f, source_id: src.id })));
    const facts = await factCounts(ctx.knex, src.id);
    return { result: { messages: scan.messages, facts, warnings: scan.warnings }, details: { messages: scan.messages, facts }, warnings: scan.warnings };
  });
  return { source, ...result };
}

function resolveFile(file: string): string {
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch {
    throw new BadSource(`${file}: no such file`);
  }
  if (!fs.statSync(real).isFile()) throw new BadSource(`${file}: not a file`);
  return real;
}

export interface SourceStatus {
  id: number;
  kind: string;
  locator: string;
  /** 'interrupted' when a run was killed: 'running' in the row, but no live run holds its lock. */
  status: 'running' | 'complete' | 'failed' | 'interrupted';
  schema_name: string | null;
  error: string | null;
  finished_at: Date | null;
}

/** Every source read so far, with killed runs shown as interrupted (never stuck "running"). */
export async function sourceStatuses(ctx: AppContext): Promise<SourceStatus[]> {
  const live = await lockedSourceIds(ctx.knex);
  return (await listSources(ctx.knex)).map((s) => ({
    id: s.id,
    kind: s.kind,
    locator: s.locator,
    status: s.status === 'running' && !live.has(s.id) ? 'interrupted' : s.status,
    schema_name: s.schema_name,
    error: s.error,
    finished_at: s.finished_at,
  }));
}

/** `salvage report` and /admin/salvage: sources, then one cluster per old user id (optionally filtered). */
export async function salvageReport(ctx: AppContext, filter?: string): Promise<SalvageReport & { sources: SourceStatus[] }> {
  return { sources: await sourceStatuses(ctx), ...(await buildReport(ctx.knex, filter)) };
}

/** The file on disk behind a catalogued image, checked to stay inside its catalogued tree; null when gone. */
export async function thumbnailSource(ctx: AppContext, sha256: string): Promise<string | null> {
  const loc = await imageLocation(ctx.knex, sha256);
  if (!loc) return null;
  const file = path.resolve(loc.root, loc.rel_path);
  if (!file.startsWith(`${loc.root}${path.sep}`) || !fs.existsSync(file)) return null;
  return file;
}
