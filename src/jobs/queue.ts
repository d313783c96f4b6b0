import PgBoss from 'pg-boss';
import type { AppContext } from '../app-context';
import { logger } from '../logger';

/**
 * The portal's job queue: pg-boss on the same PostgreSQL, in its own schema
 * `portal_jobs` (pg-boss manages those tables itself). PostgreSQL is the
 * queue, so more portal instances simply mean more workers.
 *
 * Handlers must be safe to run twice (pg-boss delivers at least once) and
 * receive ids, not objects. Job names are a stable contract: see names.ts.
 */
export const QUEUE_SCHEMA = 'portal_jobs';

const queues = new WeakMap<AppContext, Promise<PgBoss>>();

async function startBoss(ctx: AppContext): Promise<PgBoss> {
  const boss = new PgBoss({
    connectionString: ctx.databaseUrl,
    schema: QUEUE_SCHEMA,
    max: ctx.config.embedded ? 2 : 4,
    // Housekeeping cadence; defaults are tuned for busy clusters, not one VPS.
    maintenanceIntervalSeconds: 120,
  });
  boss.on('error', (err: Error) => logger.error({ err }, 'job queue error'));
  await boss.start();
  return boss;
}

/** The context's queue, started once on first use (web, worker or CLI). */
export function getQueue(ctx: AppContext): Promise<PgBoss> {
  let q = queues.get(ctx);
  if (!q) {
    q = startBoss(ctx);
    queues.set(ctx, q);
  }
  return q;
}

/** Creates the queue if needed, then sends. `singletonKey` makes repeated sends of the same work one job. */
export async function enqueue(ctx: AppContext, name: string, data: object, options: PgBoss.SendOptions = {}): Promise<string | null> {
  const boss = await getQueue(ctx);
  await boss.createQueue(name);
  return boss.send(name, data, options);
}

/**
 * Registers a worker; each job of a batch completes or fails on its own (a
 * failed one never fails the others). What the handler returns is kept as the
 * job's output, for a sender that waits for the result (getJobById).
 */
export async function work<T extends object>(
  ctx: AppContext,
  name: string,
  handler: (data: T, jobId: string) => Promise<void | object>,
  options: { batchSize?: number; pollingIntervalSeconds?: number } = {},
): Promise<void> {
  const boss = await getQueue(ctx);
  await boss.createQueue(name);
  await boss.work<T>(name, { batchSize: options.batchSize ?? 10, pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2 }, async (jobs) => {
    for (const job of jobs) {
      try {
        const output = await handler(job.data, job.id);
        await boss.complete(name, job.id, output ?? undefined);
      } catch (err) {
        logger.error({ err, job: name, jobId: job.id }, 'job failed');
        await boss.fail(name, job.id, { message: (err as Error).message });
      }
    }
  });
}

/** Stops the context's queue if it was started. */
export async function stopQueue(ctx: AppContext): Promise<void> {
  const q = queues.get(ctx);
  if (!q) return;
  queues.delete(ctx);
  const boss = await q.catch(() => null);
  await boss?.stop({ graceful: true, wait: true, timeout: 10_000 });
}
