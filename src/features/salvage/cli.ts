import fs from 'node:fs';
import type { Command } from 'commander';
import { CliError, printJson, withContext } from '../../cli/run-command';
import { addDatabase, addDiscord, addLogs, addMedia, salvageReport } from './service';
import { findCandidates } from './find';
import { SourceBusy } from './lock';
import { BadSource, MissingTool } from './errors';
import { terminalProgress } from '../../cli/progress-bar';
import type { EraOption } from './media-catalogue';
import { EXIT } from '../../cli/exit-codes';
import { defaultThreads } from './pool';

/** Exit codes: 0 done, 1 failed, 2 usage, 3 the source is not what it claims, 4 a needed tool is missing, 75 busy. */
function asCliError(err: unknown): never {
  if (err instanceof SourceBusy) throw new CliError(err.message, EXIT.busy);
  if (err instanceof BadSource) throw new CliError(err.message, EXIT.invalid);
  if (err instanceof MissingTool) throw new CliError(err.message, EXIT.unavailable);
  throw err; // everything else is mapped by the one exit-code table (src/cli/exit-codes.ts)
}

const say = (line: string) => process.stderr.write(`${line}\n`);

function parseEra(v: string): EraOption {
  if (v !== 'old' && v !== 'new' && v !== 'auto') throw new CliError(`--era must be old, new or auto (got ${v})`, EXIT.invalid);
  return v;
}

/** `recovery-portal salvage ...`: find and catalogue what survived the wipe; never writes to what it reads. */
export function registerSalvageCommands(program: Command): void {
  const salvage = program.command('salvage').description('find and catalogue what survived the wipe (read-only on every source)');

  salvage
    .command('add-media')
    .description('catalogue an uploads tree: kind, old user id, upload time, SHA-256, perceptual hash, kept metadata, era')
    .argument('<dir>', 'uploads directory (TOYBOX public/uploads, or a copy)')
    .option('--era <era>', 'old, new or auto (by the upload time in the name vs SALVAGE_INCIDENT_AT)', 'auto')
    .option('--batch-size <n>', 'files per committed batch (what a kill can lose)', '1000')
    .option('--threads <n>', 'worker threads for hashing and decoding (1 = the main thread)', String(defaultThreads()))
    .option('--no-images', 'catalogue (hash) only; a later run decodes the images still pending')
    .option('--json', 'print the summary as JSON')
    .action(async (dir: string, opts: { era: string; json?: boolean; batchSize: string; threads: string; images: boolean }) => {
      const era = parseEra(opts.era);
      const batchSize = Number(opts.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new CliError(`--batch-size must be a positive whole number (got ${opts.batchSize})`, EXIT.invalid);
      const threads = Number(opts.threads);
      if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new CliError(`--threads must be a whole number from 1 to 64 (got ${opts.threads})`, EXIT.invalid);
      await withContext(async (ctx) => {
        const { source, run } = await addMedia(ctx, dir, { era, batchSize, threads, skipImages: !opts.images, progress: terminalProgress('cataloguing', { unit: 'files' }) }).catch(asCliError);
        for (const w of run.warnings.slice(0, 50)) say(`warning: ${w}`);
        if (opts.json) return printJson({
            source_id: source.id,
            seen: run.seen,
            hashed: run.hashed,
            unchanged: run.unchanged,
            images_decoded: run.imagesDecoded,
            images_pending: run.imagesPending,
            catalogue_ms: run.catalogueMs,
            images_ms: run.imagesMs,
            elapsed_ms: run.elapsedMs,
            counts: run.counts,
            warnings: run.warnings,
          });
        const c = run.counts;
        process.stdout.write(
          `source ${source.id}: ${c.files} files (${c.blobs} distinct contents, ${c.duplicate_names} duplicate names), hashed ${run.hashed}, unchanged ${run.unchanged}\n` +
            `  images: ${run.imagesDecoded} decoded${run.imagesPending ? `, ${run.imagesPending} pending (run add-media again)` : ''}\n` +
            `  by kind: ${Object.entries(c.by_kind).map(([k, n]) => `${k}=${n}`).join(' ')}\n` +
            `  by era: ${Object.entries(c.by_era).map(([k, n]) => `${k}=${n}`).join(' ')}\n`,
        );
      });
    });

  registerAddDatabase(salvage);

  salvage
    .command('report')
    .description('per old user id: names and ids seen, files by kind and era, old posts and cards, facts, plausible current users')
    .option('--search <text>', 'only clusters whose old id, display id, name or e-mail contains this')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean; search?: string }) => {
      await withContext(async (ctx) => {
        const report = await salvageReport(ctx, opts.search);
        if (opts.json) return printJson(report);
        for (const s of report.sources) process.stdout.write(`source ${s.id} ${s.kind} ${s.status}${s.schema_name ? ` (${s.schema_name})` : ''}: ${s.locator}${s.error ? ` - ${s.error}` : ''}\n`);
        for (const c of report.clusters) {
          process.stdout.write(`\nold user ${c.old_user_id}: ids ${c.display_ids.join(', ') || '-'}; names ${c.display_names.join(', ') || '-'}\n`);
          process.stdout.write(`  files ${c.files.total} (${Object.entries(c.files.by_kind).map(([k, n]) => `${k}=${n}`).join(' ') || 'none'}); games ${c.games.length}; posts ${c.posts.length}; cards ${c.cards}; facts ${Object.entries(c.facts).map(([k, n]) => `${k}=${n}`).join(' ') || 'none'}\n`);
          for (const m of c.matches) process.stdout.write(`  may be current user ${m.user_id} (${m.display_id}): ${m.strength} - ${m.reasons.map((r) => r.what).join(', ')}\n`);
        }
        process.stdout.write(`\nnot tied to anyone: ${report.unattributed.files} files; games without a known owner: ${report.unattributed.games.length}\n`);
      });
    });

  salvage
    .command('add-logs')
    .description('read Docker json-file logs: uploads, reactions, Discord shares, SSO creations, points, each with its source line')
    .argument('<files...>', 'containers/<id>/<id>-json.log files')
    .option('--json', 'print JSON')
    .action(async (files: string[], opts: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const results = await addLogs(ctx, files).catch(asCliError);
        if (opts.json) return printJson(results.map((r) => ({ source_id: r.source.id, file: r.source.locator, lines: r.lines, facts: r.counts })));
        for (const r of results) process.stdout.write(`source ${r.source.id}: ${r.source.locator}: ${r.lines} lines, facts ${Object.entries(r.counts).map(([k, n]) => `${k}=${n}`).join(' ') || 'none'}\n`);
      });
    });

  salvage
    .command('add-discord')
    .description('read a DiscordChatExporter JSON export (with its media folder): bot shares tie display names, post times and files to old user ids')
    .argument('<file>', 'the export .json (media downloaded beside it)')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const r = await addDiscord(ctx, file).catch(asCliError);
        for (const w of r.warnings.slice(0, 20)) say(`warning: ${w}`);
        if (opts.json) return printJson({ source_id: r.source.id, messages: r.messages, facts: r.facts, warnings: r.warnings });
        process.stdout.write(`source ${r.source.id}: ${r.messages} messages, facts ${Object.entries(r.facts).map(([k, n]) => `${k}=${n}`).join(' ') || 'none'}\n`);
      });
    });

  salvage
    .command('find')
    .description('walk roots read-only and list data directories, dumps, uploads trees, Docker logs and upload tarballs (symlinks not followed)')
    .argument('<roots...>', 'directories (or files) to search')
    .option('--json', 'print JSON')
    .action(async (roots: string[], opts: { json?: boolean }) => {
      const missing = roots.filter((r) => !fs.existsSync(r));
      if (missing.length) throw new CliError(`no such file or directory: ${missing.join(', ')}`, EXIT.invalid);
      const tty = process.stderr.isTTY;
      let dirs = 0;
      const result = await findCandidates(roots, () => {
        if (tty && ++dirs % 500 === 0) process.stderr.write(`\rsearched ${dirs} folders...`);
      });
      if (tty && dirs >= 500) process.stderr.write('\n');
      if (opts.json) return printJson(result);
      for (const c of result.candidates) {
        process.stdout.write(`${c.type.padEnd(16)} ${formatBytes(c.size).padStart(9)}  ${c.mtime.slice(0, 19)}Z  ${c.path}\n    ${c.why}\n    next: recovery-portal ${c.next}\n`);
      }
      if (!result.candidates.length) process.stdout.write('nothing found\n');
      if (result.symlinksNotFollowed) say(`${result.symlinksNotFollowed} symbolic links not followed`);
      for (const u of result.unreadable.slice(0, 20)) say(`unreadable: ${u}`);
    });
}

function registerAddDatabase(salvage: Command): void {
  salvage
    .command('add-database')
    .description('load a dump (custom or plain; UTF-8/UTF-16, gzip) or a PostgreSQL data directory into its own schema salvage_<id>')
    .argument('<source>', 'dump file or data directory (only read; a data directory is copied first)')
    .option('--database <name>', 'data directory: the database to take (default: the one holding TOYBOX tables)')
    .option('--json', 'print the result as JSON')
    .action(async (source: string, opts: { database?: string; json?: boolean }) => {
      await withContext(async (ctx) => {
        say(`loading ${source} (a throwaway PostgreSQL server on a private socket does the restore)...`);
        const load = await addDatabase(ctx, source, { database: opts.database }).catch(asCliError);
        if (opts.json) return printJson(load);
        const total = Object.values(load.table_counts).reduce((a, b) => a + b, 0);
        process.stdout.write(`${load.already_loaded ? 'already loaded' : 'loaded'}: source ${load.source_id} (${load.format}) in schema ${load.schema}: ${total} rows in ${Object.keys(load.table_counts).length} tables\n`);
        for (const [t, n] of Object.entries(load.table_counts)) if (n) process.stdout.write(`  ${t.padEnd(28)} ${n}\n`);
        const r = load.plain?.repairs;
        if (r) process.stdout.write(`  text: ${load.plain!.encoding}${load.plain!.crlf ? ', CRLF' : ''}; mojibake repaired in ${r.repaired} fields, ${r.kept} non-ASCII fields kept as they were${r.suspectLines.length ? ` (check lines ${r.suspectLines.join(', ')})` : ''}\n`);
      });
    });
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}
