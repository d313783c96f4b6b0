import type { AppContext } from '../../app-context';
import { enqueueJob, jobOutcome, withdrawJob } from '../../jobs/runner';
import { Unavailable } from '../../http/errors';
import { BackupBusy, backupNow, getBackup } from './service';
import { selectBackups, type BackupKind, type BackupRow } from './repo';
import type { Progress } from './run';

interface RunRequest {
  kind: BackupKind;
  trigger: string;
}

/** What the worker reports back to a waiting CLI (the job's output). */
interface RunOutcome {
  backupId: number | null;
  error: string | null;
  busy: boolean;
}

/** How long a request may wait for the server to pick it up before the CLI gives up (and withdraws it). */
const PICKUP_TIMEOUT_MS = 60_000;

/**
 * The `backups.run` job (src/jobs/registry.ts): a backup the admin page's
 * button or, in embedded mode, a CLI `backup run` asked for (only the process
 * holding the PGlite files can dump them). The outcome, failure included, goes
 * back as the job's output; alerts are raised by backupNow as for any other backup.
 */
export async function runRequestedBackup(ctx: AppContext, { kind, trigger }: RunRequest): Promise<RunOutcome> {
  try {
    const row = await backupNow(ctx, kind, { trigger });
    return { backupId: row?.id ?? null, error: null, busy: false };
  } catch (err) {
    const [latest] = (await selectBackups(ctx.knex, { kind, limit: 5 })).filter((b) => b.trigger === trigger && b.status === 'failed');
    return { backupId: latest?.id ?? null, error: (err as Error).message, busy: err instanceof BackupBusy };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * For a CLI that borrowed the server's embedded database: asks the server to
 * back up and waits for the result. Throws BackupBusy when another backup
 * runs, Unavailable when no server picks the request up; a failed backup
 * comes back as its row (status failed) with the error.
 */
export async function requestBackupFromServer(ctx: AppContext, kind: BackupKind, trigger: string, progress: Progress): Promise<{ backup: BackupRow | null; error: string | null }> {
  const jobId = await enqueueJob(ctx, 'backupRun', { kind, trigger });
  if (!jobId) throw new Error('the job queue refused the backup request');
  progress('the running server holds the embedded database: asked it to make the backup, waiting');
  const sentAt = Date.now();
  let announced = false;
  for (;;) {
    const job = await jobOutcome(ctx, 'backupRun', jobId);
    const state = job?.state ?? 'created';
    if (state === 'created' || state === 'retry') {
      if (Date.now() - sentAt > PICKUP_TIMEOUT_MS) {
        await withdrawJob(ctx, 'backupRun', jobId).catch(() => undefined);
        throw Unavailable('backups.errors.server_not_working');
      }
    } else if (state === 'active' && !announced) {
      announced = true;
      progress('the server is making the backup');
    } else if (state === 'completed' || state === 'failed' || state === 'cancelled') {
      const out = (job?.output ?? {}) as Partial<RunOutcome> & { message?: string };
      if (out.busy) throw new BackupBusy();
      const backup = out.backupId ? ((await getBackup(ctx, out.backupId)) ?? null) : null;
      return { backup, error: out.error ?? out.message ?? (state === 'completed' ? null : `the backup job ${state}`) };
    }
    await sleep(500);
  }
}
