import type { Command } from 'commander';
import { cliActor } from '../../audit/service';
import { CliError, printJson, withContext } from '../../cli/run-command';
import { EXIT } from '../../cli/exit-codes';
import { acknowledgeBackup, backupNow, listBackups, performRestore, prepareRestore, pruneBackups, verifyBackup } from './service';
import { redactUrl } from '../../db/pg-tools';
import type { BackupKind, BackupRow } from './repo';
import type { RunningContext } from '../../open-context';
import { requestBackupFromServer } from './jobs';
import { sendTestAlert } from './test-alert';
import { abandonDrills } from './run';
import { findLastGood } from './repo';
import { formatJst } from '../../i18n/tokyo-time';
import type { AppContext } from '../../app-context';

/**
 * While a drill runs, SIGINT/SIGTERM first drop its scratch database and
 * close its row, then exit 130/143. Returns the function that removes the handlers.
 */
function cleanUpOnInterrupt(ctx: AppContext): () => void {
  const handler = (signal: NodeJS.Signals) => {
    progress(`${signal}: dropping the drill's scratch database`);
    void abandonDrills(ctx)
      .then((names) => progress(names.length ? `dropped ${names.join(', ')}` : 'no scratch database was left'))
      .catch((err: Error) => progress(`cleanup failed: ${err.message}`))
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

const progress = (message: string) => process.stderr.write(`${message}\n`);

function parseId(value: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0) throw new CliError(`not a backup id: ${value}`, EXIT.invalid);
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
  throw new CliError(`--target is not a valid PostgreSQL URL: ${shown} (expected postgres://user:password@host:5432/database)`, EXIT.invalid);
}

function formatRow(b: BackupRow): string {
  const when = formatJst(b.started_at);
  const size = `${(b.total_bytes / 1024 / 1024).toFixed(1)} MB`;
  const users = b.row_counts?.users ?? '-';
  const subs = b.row_counts?.submissions ?? '-';
  const extra = b.status === 'suspect' ? `  ! ${(b.suspect_reasons ?? []).join('; ')} (backup acknowledge ${b.id})` : b.error ? `  ${b.error.slice(0, 120)}` : '';
  return `${String(b.id).padStart(5)}  ${b.kind.padEnd(8)}  ${b.status.padEnd(8)}  ${when}  ${size.padStart(10)}  users=${users} submissions=${subs}${extra}`;
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

/** Embedded mode with the server running: the PGlite files are the server's, so it makes the backup. */
function borrowsEmbeddedDatabase(ctx: RunningContext): boolean {
  return ctx.config.embedded && !ctx.database.embedded?.db;
}

async function runOnServer(ctx: RunningContext, kind: BackupKind): Promise<BackupRow | null> {
  const { backup, error } = await requestBackupFromServer(ctx, kind, 'cli', progress);
  if (error) throw new CliError(backup ? `backup ${backup.id} failed: ${error}` : `the backup failed: ${error}`, EXIT.failed);
  return backup;
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
        const kind = opts.media ? 'media' : 'database';
        // Another run holding the lock surfaces as Busy: exit 75, try again later.
        const row = borrowsEmbeddedDatabase(ctx) ? await runOnServer(ctx, kind) : await backupNow(ctx, kind, { trigger: 'cli', progress });
        if (!row) throw new CliError('no backup was made', EXIT.failed);
        progress(`backup ${row.id}: ${row.status}`);
        process.stdout.write(`${row.id}\n`);
        if (row.status === 'bad') throw new CliError(`backup ${row.id} is bad: ${row.error ?? ''}`, EXIT.failed);
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
    .argument('<id>', 'backup id (see backup list), or `latest` for the newest good database backup')
    .option('--drill', 'also restore it into a scratch database and compare row counts (Ctrl-C drops the scratch database)')
    .option('--json', 'print the report as JSON')
    .action(async (idArg: string, opts: { drill?: boolean; json?: boolean }) => {
      const given = idArg === 'latest' ? null : parseId(idArg);
      await withContext(async (ctx) => {
        const id = given ?? (await findLastGood(ctx.knex, 'database'))?.id;
        if (!id) throw new CliError('no good database backup yet: run `recovery-portal backup run`', EXIT.notFound);
        const stopListening = cleanUpOnInterrupt(ctx);
        const report = await verifyBackup(ctx, id, { drill: opts.drill, progress }).finally(stopListening);
        if (opts.json) printJson(report);
        else process.stdout.write(report.ok ? `backup ${id}: OK\n` : `backup ${id}: FAILED\n${report.problems.map((p) => `  - ${p}`).join('\n')}\n`);
        if (!report.ok) throw new CliError(`backup ${id} failed verification (now marked bad)`, EXIT.failed);
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
        const prepared = await prepareRestore(ctx, id, target, Boolean(opts.force));
        process.stdout.write(`restore backup ${id} (taken ${formatJst(prepared.backup.started_at)}) into ${prepared.plan.target}:\n`);
        if ('notes' in prepared.plan) prepared.plan.notes.forEach((n) => process.stdout.write(`  note: ${n}\n`));
        prepared.plan.steps.forEach((s, i) => process.stdout.write(`  ${i + 1}. ${s}\n`));
        if (opts.dryRun) return;
        progress('restoring...');
        const result = await performRestore(ctx, prepared.backup, prepared.plan, target);
        if (result.mismatches.length) throw new CliError(`restored, but row counts differ from the manifest:\n  ${result.mismatches.join('\n  ')}`, EXIT.failed);
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
        const row = await acknowledgeBackup(ctx, id, cliActor());
        process.stdout.write(`backup ${row.id} acknowledged; pruning resumes with the next backup\n`);
      });
    });

  backup
    .command('test-alert')
    .description('send a test alert to every active superuser (and ALERT_WEBHOOK_URL); audited; exit 1 when it could not be delivered')
    .action(async () => {
      await withContext(async (ctx) => {
        const r = await sendTestAlert(ctx, cliActor());
        process.stdout.write(`test alert: ${r.recipients} recipient(s) accepted via ${r.transport}, webhook ${r.webhook}\n`);
        if (r.error) throw new CliError(`test alert not delivered: ${r.error}`, EXIT.failed);
      });
    });

  backup
    .command('prune')
    .description('apply the retention policy now (does nothing while a suspect backup awaits acknowledgement)')
    .action(async () => {
      await withContext(async (ctx) => {
        const r = await pruneBackups(ctx, progress);
        if (r.blockedBy.length) throw new CliError(`pruning stopped: suspect backup(s) ${r.blockedBy.join(', ')} await acknowledgement`, EXIT.refused);
        process.stdout.write(`pruned ${r.pruned.length} backup(s)\n`);
      });
    });
}
