import PgBoss from 'pg-boss';
import type { AppContext } from '../app-context';
import { logger } from '../logger';
import type { QueueJob } from './registry';

/**
 * The portal's job queue: pg-boss on the same PostgreSQL, in its own schema
 * `portal_jobs` (pg-boss manages those tables itself). PostgreSQL is the
 * queue, so more portal instances simply mean more workers.
 *
 * Handlers must be safe to run twice (pg-boss delivers at least once) and
 * receive ids, not objects. Every queue, its name (a stable contract) and its
 * retry policy is declared in registry.ts; features enqueue through runner.ts.
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

const policy = (q: QueueJob) => ({
  retryLimit: q.retryLimit,
  retryDelay: q.retryDelay,
  retryBackoff: q.retryBackoff,
  ...(q.expireInSeconds ? { expireInSeconds: q.expireInSeconds } : {}),
});

/** Creates the queue (with its retry policy) if needed, then sends. `singletonKey` makes repeated sends of the same work one job. */
export async function enqueue(ctx: AppContext, queue: QueueJob, data: object, options: { singletonKey?: string } = {}): Promise<string | null> {
  const boss = await getQueue(ctx);
  await boss.createQueue(queue.name, { name: queue.name, ...policy(queue) });
  // The policy goes with each job too: a queue created before its policy changed keeps its old defaults.
  return boss.send(queue.name, data, { ...policy(queue), ...options });
}

/**
 * Registers a worker; each job of a batch completes or fails on its own (a
 * failed one never fails the others). What the handler returns is kept as the
 * job's output, for a sender that waits for the result (jobState).
 */
export async function work<T extends object>(ctx: AppContext, queue: QueueJob, handler: (data: T, jobId: string) => Promise<void | object>): Promise<void> {
  const boss = await getQueue(ctx);
  const { name } = queue;
  await boss.createQueue(name, { name, ...policy(queue) });
  await boss.work<T>(name, { batchSize: queue.batchSize, pollingIntervalSeconds: queue.pollingIntervalSeconds }, async (jobs) => {
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

/** A job's state and output (what its handler returned), or null once pg-boss no longer has it. */
export async function jobState(ctx: AppContext, queue: QueueJob, id: string): Promise<{ state: string; output: unknown } | null> {
  const job = await (await getQueue(ctx)).getJobById(queue.name, id);
  return job ? { state: job.state, output: job.output } : null;
}

/** Withdraws a job nobody has started. */
export async function cancelJob(ctx: AppContext, queue: QueueJob, id: string): Promise<void> {
  await (await getQueue(ctx)).cancel(queue.name, id);
}

/** Stops fetching a queue's jobs in this context (jobs already fetched finish). */
export async function unwork(ctx: AppContext, queue: QueueJob): Promise<void> {
  const q = queues.get(ctx);
  if (!q) return;
  const boss = await q.catch(() => null);
  await boss?.offWork(queue.name);
}

/** Stops the context's queue if it was started. */
export async function stopQueue(ctx: AppContext): Promise<void> {
  const q = queues.get(ctx);
  if (!q) return;
  queues.delete(ctx);
  const boss = await q.catch(() => null);
  await boss?.stop({ graceful: true, wait: true, timeout: 10_000 });
}
