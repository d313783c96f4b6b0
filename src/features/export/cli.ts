import { closeSink, createFileSink } from '../../files/private';
import fs from 'node:fs';
import type { Command } from 'commander';
import { CliError, withContext, printJson } from '../../cli/run-command';
import { EXIT } from '../../cli/exit-codes';
import { cliActor, recordAudit } from '../../audit/service';
import { writeZipExport, writeJsonExport, exportFileName, type ExportFormat } from './archive';
import { exportSettings, findSubject, sweepExpiredExports } from './service';
import { loadConfigOrExit } from '../../config';
import { SigningKeyError } from '../../auth/archive-signing';
import { verifyWithSiteKeys, type VerifyResult } from '../../archive/verify';

export function registerExportCli(program: Command): void {
  program
    .command('export-user')
    .description("write one user's personal data export (data-subject request); recorded in the audit log")
    .requiredOption('--user <id|display_id|email>', 'the TOYBOX user')
    .option('--format <zip|json>', 'archive format', 'zip')
    .option('--out <file>', 'where to write (default: toybox-export-<display_id>-<date>.<format> here)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { user: string; format: string; out?: string; json?: boolean }) => {
      if (opts.format !== 'zip' && opts.format !== 'json') throw new CliError('--format must be zip or json', EXIT.invalid);
      const format = opts.format as ExportFormat;
      await withContext(async (ctx) => {
        const subject = await findSubject(ctx, opts.user);
        if (subject === 'ambiguous') throw new CliError('that display id belongs to several accounts; use the e-mail or numeric id', EXIT.notFound);
        if (!subject) throw new CliError(`no TOYBOX user matches ${opts.user}`, EXIT.notFound);
        const out = opts.out ?? exportFileName(subject.display_id, format).ascii;
        await recordAudit(ctx.knex, cliActor(), 'export.staff', `user:${subject.id}`, { format, via: 'cli' });
        const settings = await exportSettings(ctx, 'ja');
        // 0600 like every export; a failed write (disk full) removes the partial file and exits non-zero.
        const sink = createFileSink(out);
        let result;
        try {
          result = format === 'zip' ? await writeZipExport(subject, settings, sink.stream) : await writeJsonExport(subject, settings, sink.stream);
          await closeSink(sink);
        } catch (err) {
          await sink.discard();
          throw new CliError(`could not write ${out}: ${(err as Error).message}`, 1);
        }
        if (opts.json) printJson({ file: out, ...result });
        else process.stdout.write(`wrote ${out}: ${result.rows} rows\n`);
      });
    });

  program
    .command('export-sweep')
    .description('delete background export archives whose download links have expired')
    .action(async () => {
      await withContext(async (ctx) => {
        process.stdout.write(`deleted ${await sweepExpiredExports(ctx)} expired archive(s)\n`);
      });
    });

  program
    .command('export-verify')
    .description("check an export archive: this site's signature, every file's SHA-256, the rows (exit 0 valid, 1 invalid or forged)")
    .argument('<file>', 'the ZIP archive')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const stat = await fs.promises.stat(file).catch(() => null);
      if (!stat?.isFile()) throw new CliError(`${file} is not a readable file`, EXIT.invalid);
      let result: VerifyResult;
      try {
        result = await verifyWithSiteKeys(loadConfigOrExit(), file);
      } catch (err) {
        if (err instanceof SigningKeyError) throw new CliError(err.message, EXIT.invalid);
        throw err;
      }
      if (opts.json) printJson(result);
      else printVerification(file, result);
      if (!result.valid) throw new CliError(`${file} is NOT a valid archive of this site (${result.problems.length} problem(s))`, EXIT.failed);
    });
}

function printVerification(file: string, r: VerifyResult): void {
  const lines = [`${file}: ${r.valid ? 'VALID' : 'INVALID'}`];
  if (r.keyId) lines.push(`  key:      ${r.keyId}${r.signatureValid ? ' (signature verified)' : ''}`);
  if (r.site) lines.push(`  site:     ${r.site}`);
  if (r.subject) lines.push(`  subject:  user ${r.subject.user_id} (${r.subject.display_id}), ${r.subject.global_id}`);
  if (r.exportedAt) lines.push(`  exported: ${r.exportedAt} (UTC)`);
  for (const p of r.problems) lines.push(`  problem:  [${p.code}] ${p.message}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
