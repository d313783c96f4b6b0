import type { Command } from 'commander';
import { cliActor } from '../../audit/service';
import { CliError, printJson, withContext } from '../../cli/context';
import { BackupBusy, acknowledgeBackup, backupNow, listBackups, performRestore, prepareRestore, pruneBackups, verifyBackup } from './service';
import { redactUrl } from './tools';
import type { BackupRow } from './repo';

const progress = (message: string) => process.stderr.write(`${message}\n`);

function parseId(value: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0) throw new CliError(`not a backup id: ${value}`, 2);
  return id;
}

/** --target must be a PostgreSQL URL with a host; the message names what was given, without its password. */
export function checkTargetUrl(value: string): void {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    url = null;
  }
  if (url && /^postgres(ql)?:$/.test(url.protocol) && url.hostname) return;
  // Whatever it parsed as, mask anything shaped like user:password@ before printing it.
  const shown = value.replace(/:[^@/]*@/, ':***@');
  throw new CliError(`--target is not a valid PostgreSQL URL: ${shown} (expected postgres://user:password@host:5432/database)`, 2);
}

function formatRow(b: BackupRow): string {
  const when = b.started_at.toISOString().replace('T', ' ').slice(0, 19);
  const size = `${(b.total_bytes / 1024 / 1024).toFixed(1)} MB`;
  const users = b.row_counts?.users ?? '-';
  const subs = b.row_counts?.submissions ?? '-';
  const extra = b.status === 'suspect' ? `  ! ${(b.suspect_reasons ?? []).join('; ')} (backup acknowledge ${b.id})` : b.error ? `  ${b.error.slice(0, 120)}` : '';
  return `${String(b.id).padStart(5)}  ${b.kind.padEnd(8)}  ${b.status.padEnd(8)}  ${when}Z  ${size.padStart(10)}  users=${users} submissions=${subs}${extra}`;
}

function toJson(b: BackupRow) {
  return {
    id: b.id,
    kind: b.kind,
    status: b.status,
    trigger: b.trigger,
    started_at: b.started_at,
    finished_at: b.finished_at,
    dir: b.dir,
    files: b.files,
    total_bytes: b.total_bytes,
    row_counts: b.row_counts,
    suspect_reasons: b.suspect_reasons,
    acknowledged_at: b.acknowledged_at,
    acknowledged_by: b.acknowledged_by,
    offhost_exit_code: b.offhost_exit_code,
    error: b.error,
  };
}

/** `recovery-portal backup run | list | verify | restore | acknowledge | prune`. */
export function registerBackupCommands(program: Command): void {
  const backup = program.command('backup').description('database and media backups: run, list, verify, restore, acknowledge');

  backup
    .command('run')
    .description('back up now (restore drill included); prints the new backup id, progress on stderr')
    .option('--media', 'back up TOYBOX_MEDIA_DIR instead of the database')
    .action(async (opts: { media?: boolean }) => {
      await withContext(async (ctx) => {
        try {
          const row = await backupNow(ctx, opts.media ? 'media' : 'database', { trigger: 'cli', progress });
          if (!row) throw new CliError('no backup was made', 1);
          progress(`backup ${row.id}: ${row.status}`);
          process.stdout.write(`${row.id}\n`);
          if (row.status === 'bad') throw new CliError(`backup ${row.id} is bad: ${row.error ?? ''}`, 1);
        } catch (err) {
          if (err instanceof BackupBusy) throw new CliError(err.message, 75);
          throw err;
        }
      });
    });

  backup
    .command('list')
    .description('backups, newest first (status good, suspect, bad, failed, running)')
    .option('--json', 'print JSON')
    .option('--all', 'include pruned backups')
    .action(async (opts: { json?: boolean; all?: boolean }) => {
      await withContext(async (ctx) => {
        const rows = await listBackups(ctx, { includePruned: opts.all });
        if (opts.json) return printJson(rows.map(toJson));
        if (!rows.length) process.stdout.write('no backups yet: run `recovery-portal backup run`\n');
        for (const r of rows) process.stdout.write(`${formatRow(r)}\n`);
      });
    });

  backup
    .command('verify')
    .description('re-check a backup: manifest, size, SHA-256, archive readable (exit 1 on any mismatch)')
    .argument('<id>', 'backup id (see backup list)')
    .option('--drill', 'also restore it into a scratch database and compare row counts')
    .option('--json', 'print the report as JSON')
    .action(async (idArg: string, opts: { drill?: boolean; json?: boolean }) => {
      const id = parseId(idArg);
      await withContext(async (ctx) => {
        const report = await verifyBackup(ctx, id, { drill: opts.drill, progress }).catch((err: Error) => {
          throw new CliError(err.message, 1);
        });
        if (opts.json) printJson(report);
        else process.stdout.write(report.ok ? `backup ${id}: OK\n` : `backup ${id}: FAILED\n${report.problems.map((p) => `  - ${p}`).join('\n')}\n`);
        if (!report.ok) throw new CliError(`backup ${id} failed verification (now marked bad)`, 1);
      });
    });

  backup
    .command('restore')
    .description("restore TOYBOX's tables from a database backup (refuses a target holding TOYBOX rows unless --force)")
    .argument('<id>', 'backup id (see backup list)')
    .option('--target <url>', 'DATABASE_URL to restore into')
    .option('--target-dir <dir>', 'embedded backups: the PGlite data directory to unpack into')
    .option('--force', 'restore even though the target holds TOYBOX rows (they are replaced)')
    .option('--dry-run', 'only print what would be done')
    .action(async (idArg: string, opts: { target?: string; targetDir?: string; force?: boolean; dryRun?: boolean }) => {
      const id = parseId(idArg);
      if (opts.target !== undefined) checkTargetUrl(opts.target);
      await withContext(async (ctx) => {
        const target = { url: opts.target, dir: opts.targetDir };
        const prepared = await prepareRestore(ctx, id, target, Boolean(opts.force)).catch((err: Error) => {
          throw new CliError(err.message, 3);
        });
        process.stdout.write(`restore backup ${id} (taken ${prepared.backup.started_at.toISOString()}) into ${prepared.plan.target}:\n`);
        prepared.plan.steps.forEach((s, i) => process.stdout.write(`  ${i + 1}. ${s}\n`));
        if (opts.dryRun) return;
        progress('restoring...');
        const result = await performRestore(ctx, prepared.backup, prepared.plan, target);
        if (result.mismatches.length) throw new CliError(`restored, but row counts differ from the manifest:\n  ${result.mismatches.join('\n  ')}`, 1);
        const total = Object.values(result.counts).reduce((a, b) => a + b, 0);
        process.stdout.write(`done: ${total} rows in ${Object.keys(result.counts).length} tables match the manifest (users=${result.counts.users ?? 0}, submissions=${result.counts.submissions ?? 0})\n`);
        if (opts.target) progress(`target was ${redactUrl(opts.target)}`);
      });
    });

  backup
    .command('acknowledge')
    .description('confirm a suspect backup (wipe guard) so pruning resumes; audited')
    .argument('<id>', 'backup id')
    .action(async (idArg: string) => {
      const id = parseId(idArg);
      await withContext(async (ctx) => {
        const row = await acknowledgeBackup(ctx, id, cliActor()).catch((err: Error) => {
          throw new CliError(err.message, 3);
        });
        process.stdout.write(`backup ${row.id} acknowledged; pruning resumes with the next backup\n`);
      });
    });

  backup
    .command('prune')
    .description('apply the retention policy now (does nothing while a suspect backup awaits acknowledgement)')
    .action(async () => {
      await withContext(async (ctx) => {
        const r = await pruneBackups(ctx, progress);
        if (r.blockedBy.length) throw new CliError(`pruning stopped: suspect backup(s) ${r.blockedBy.join(', ')} await acknowledgement`, 3);
        process.stdout.write(`pruned ${r.pruned.length} backup(s)\n`);
      });
    });
}
