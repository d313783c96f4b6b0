import type { Command } from 'commander';
import { CliError, printJson, withContext } from '../../cli/context';
import { addMedia } from './service';
import { SourceBusy } from './lock';
import { BadSource, MissingTool } from './errors';
import { terminalProgress } from './progress';
import type { EraOption } from './media-catalogue';

/** Exit codes: 0 done, 1 failed, 2 usage, 3 the source is not what it claims, 4 a needed tool is missing, 75 busy. */
function asCliError(err: unknown): never {
  if (err instanceof SourceBusy) throw new CliError(err.message, 75);
  if (err instanceof BadSource) throw new CliError(err.message, 3);
  if (err instanceof MissingTool) throw new CliError(err.message, 4);
  if (err instanceof CliError) throw err;
  throw new CliError((err as Error).message, 1);
}

const say = (line: string) => process.stderr.write(`${line}\n`);

function parseEra(v: string): EraOption {
  if (v !== 'old' && v !== 'new' && v !== 'auto') throw new CliError(`--era must be old, new or auto (got ${v})`, 2);
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
    .option('--batch-size <n>', 'files per committed batch (what a kill can lose)', '200')
    .option('--threads <n>', 'worker threads for hashing and decoding (1 = main thread and libuv pool)', '1')
    .option('--json', 'print the summary as JSON')
    .action(async (dir: string, opts: { era: string; json?: boolean; batchSize: string; threads: string }) => {
      const era = parseEra(opts.era);
      const batchSize = Number(opts.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1) throw new CliError(`--batch-size must be a positive whole number (got ${opts.batchSize})`, 2);
      const threads = Number(opts.threads);
      if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new CliError(`--threads must be a whole number from 1 to 64 (got ${opts.threads})`, 2);
      await withContext(async (ctx) => {
        const { source, run } = await addMedia(ctx, dir, { era, batchSize, threads, progress: terminalProgress() }).catch(asCliError);
        for (const w of run.warnings.slice(0, 50)) say(`warning: ${w}`);
        if (opts.json) return printJson({ source_id: source.id, seen: run.seen, hashed: run.hashed, unchanged: run.unchanged, elapsed_ms: run.elapsedMs, counts: run.counts, warnings: run.warnings });
        const c = run.counts;
        process.stdout.write(
          `source ${source.id}: ${c.files} files (${c.blobs} distinct contents, ${c.duplicate_names} duplicate names), hashed ${run.hashed}, unchanged ${run.unchanged}\n` +
            `  by kind: ${Object.entries(c.by_kind).map(([k, n]) => `${k}=${n}`).join(' ')}\n` +
            `  by era: ${Object.entries(c.by_era).map(([k, n]) => `${k}=${n}`).join(' ')}\n`,
        );
      });
    });
}
