import type { AppContext } from '../app-context';
import type { Config } from '../config';
import { logger } from '../logger';
import { cancelJob, enqueue, jobState, unwork, work } from './queue';
import { nextRun } from './schedule';
import {
  LOCAL_TASKS, QUEUES, TIMERS, type LocalTaskKey, type QueueKey, type QueuePayloads, type TimerJob, type TimerKey,
} from './registry';

/**
 * Starts what src/jobs/registry.ts declares with the handlers features supply:
 * queue workers, timers, and tasks a request leaves running in this process.
 * Every timer logs its errors, never keeps the process alive (unref), skips a
 * tick while the previous one still runs, and stops by waiting for the tick in flight.
 */

export interface Tick {
  /** The cron slot this tick stands for (backups record it), or null for interval timers and triggers. */
  scheduledFor: Date | null;
}

/** What a handler returns is kept as the job's output (for a sender waiting on the result, see jobOutcome). */
export type QueueHandler<K extends QueueKey> = (ctx: AppContext, data: QueuePayloads[K], jobId: string) => Promise<void | object>;
export type TimerHandler = (ctx: AppContext, tick: Tick) => Promise<void>;

/** A feature's background work: handlers for entries of the registry, plus optional start/stop hooks. */
export interface BackgroundWork {
  queues?: { [K in QueueKey]?: QueueHandler<K> };
  timers?: { [K in TimerKey]?: TimerHandler };
  /** Runs before any of the feature's workers or timers (e.g. subscribe to an event that triggers a timer). */
  prepare?(ctx: AppContext): Promise<void>;
  /** Runs after every timer stopped (e.g. end sending loops the queue handler started). */
  stop?(ctx: AppContext): Promise<void>;
}

export interface RunningTimer {
  readonly name: string;
  /** Runs a tick now; when one is running, one more runs right after it (nothing asked for is lost). */
  trigger(): void;
  /** Stops the schedule and waits for a tick in flight. */
  stop(): Promise<void>;
  /** Ticks skipped because the previous one was still running. */
  readonly skipped: number;
}

/** Timers never sleep longer than this, so a suspended VM or a clock jump is noticed soon after. */
const MAX_SLEEP_MS = 60_000;

const running = new WeakMap<AppContext, Map<string, RunningTimer>>();

function intervalOf(def: TimerJob, config: Config): number {
  const every = typeof def.every === 'function' ? def.every(config) : def.every;
  if (!every || every <= 0) throw new Error(`timer ${def.name} has no interval`);
  return every;
}

/**
 * Starts one timer. `wait` resolves once the first tick ran (for `atStart: 'wait'`);
 * exported for the runner's own tests and for work with its own lifecycle (the notice runtime).
 */
export function startTimer(config: Config, def: TimerJob, run: (tick: Tick) => Promise<void>): { timer: RunningTimer; first: Promise<void> } {
  let stopped = false;
  let inFlight: Promise<void> | null = null;
  let again = false;
  let skipped = 0;
  let handle: NodeJS.Timeout | null = null;

  const tick = (scheduledFor: Date | null): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (inFlight) {
      skipped += 1;
      logger.debug({ timer: def.name }, 'timer tick skipped: the previous one is still running');
      return inFlight;
    }
    inFlight = run({ scheduledFor })
      .catch((err: unknown) => logger.error({ err, timer: def.name }, 'timer failed'))
      .finally(() => {
        inFlight = null;
        if (again && !stopped) {
          again = false;
          void tick(null);
        }
      });
    return inFlight;
  };

  let first: Promise<void> = Promise.resolve();
  if (def.cron) {
    const expression = def.cron(config);
    let due = nextRun(expression, new Date());
    const sleep = () => {
      if (stopped) return;
      handle = setTimeout(wake, Math.min(MAX_SLEEP_MS, Math.max(0, due.getTime() - Date.now())));
      handle.unref();
    };
    const wake = async () => {
      if (Date.now() >= due.getTime()) {
        const slot = due;
        due = nextRun(expression, new Date(Math.max(Date.now(), slot.getTime())));
        await tick(slot);
      }
      sleep();
    };
    sleep();
  } else {
    const ms = intervalOf(def, config);
    if (def.atStart !== 'none') first = tick(null);
    handle = setInterval(() => void tick(null), ms);
    handle.unref();
  }

  const timer: RunningTimer = {
    name: def.name,
    get skipped() {
      return skipped;
    },
    trigger() {
      if (inFlight) again = true;
      else void tick(null);
    },
    async stop() {
      stopped = true;
      if (handle) {
        clearTimeout(handle);
        clearInterval(handle);
      }
      await inFlight;
    },
  };
  return { timer, first };
}

/** Runs a registry timer's next tick now (a failed write re-checks alerts at once); a no-op where it is not running. */
export function triggerTimer(ctx: AppContext, key: TimerKey): void {
  running.get(ctx)?.get(TIMERS[key].name)?.trigger();
}

/** Sends a job to one of the registry's queues, with the queue's retry policy. */
export function enqueueJob<K extends QueueKey>(ctx: AppContext, key: K, data: QueuePayloads[K], options: { singletonKey?: string } = {}): Promise<string | null> {
  return enqueue(ctx, QUEUES[key], data, options);
}

/** A sent job's state ('created', 'retry', 'active', 'completed', 'failed', 'cancelled', ...) and output. */
export function jobOutcome(ctx: AppContext, key: QueueKey, id: string): Promise<{ state: string; output: unknown } | null> {
  return jobState(ctx, QUEUES[key], id);
}

/** Withdraws a job no worker has started (a CLI that gave up waiting). */
export function withdrawJob(ctx: AppContext, key: QueueKey, id: string): Promise<void> {
  return cancelJob(ctx, QUEUES[key], id);
}

const localTasks = new WeakMap<AppContext, Set<Promise<void>>>();

/**
 * Runs a registry local task in this process after the request that started it has answered:
 * its failure is logged (the task records its own outcome for the user), and stopping the portal waits for it.
 */
export function runLocalTask(ctx: AppContext, key: LocalTaskKey, task: () => Promise<void>): void {
  let set = localTasks.get(ctx);
  if (!set) localTasks.set(ctx, (set = new Set()));
  const p: Promise<void> = task()
    .catch((err: unknown) => logger.error({ err, task: LOCAL_TASKS[key].name }, 'background task failed'))
    .finally(() => set.delete(p));
  set.add(p);
}

/** Waits for the local tasks still running in this context. */
export async function settleLocalTasks(ctx: AppContext): Promise<void> {
  const set = localTasks.get(ctx);
  while (set?.size) await Promise.all([...set]);
}

export interface StartOptions {
  /** Start timers (default true); tests that only need a queue worked turn them off. */
  timers?: boolean;
}

/**
 * Starts the background work of `parts` (the features) that this instance runs:
 * everything where WORKER=true, only `every-instance` timers elsewhere. Returns the stop function.
 */
export async function startBackground(
  ctx: AppContext,
  parts: ReadonlyArray<{ name: string; background?: BackgroundWork }>,
  opts: StartOptions = {},
): Promise<() => Promise<void>> {
  const worker = ctx.config.WORKER;
  const timers: RunningTimer[] = [];
  const stops: Array<() => Promise<void>> = [];
  let byName = running.get(ctx);
  if (!byName) running.set(ctx, (byName = new Map()));
  const stopAll = async () => {
    for (const t of timers.reverse()) {
      await t.stop();
      byName.delete(t.name);
    }
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => logger.error({ err }, 'background stop failed'));
    await settleLocalTasks(ctx);
  };
  try {
    for (const part of parts) {
      const bg = part.background;
      if (!bg) continue;
      await bg.prepare?.(ctx);
      if (bg.stop) stops.push(() => bg.stop!(ctx));
      if (worker) {
        for (const key of Object.keys(bg.queues ?? {}) as QueueKey[]) {
          const handler = bg.queues![key] as QueueHandler<QueueKey>;
          await work<QueuePayloads[QueueKey]>(ctx, QUEUES[key], (data, jobId) => handler(ctx, data, jobId));
          stops.push(() => unwork(ctx, QUEUES[key]));
        }
      }
      if (opts.timers === false) continue;
      for (const key of Object.keys(bg.timers ?? {}) as TimerKey[]) {
        const def: TimerJob = TIMERS[key];
        if ((def.runsOn === 'worker' && !worker) || (def.enabled && !def.enabled(ctx.config))) continue;
        const handler = bg.timers![key]!;
        const { timer, first } = startTimer(ctx.config, def, (tick) => handler(ctx, tick));
        timers.push(timer);
        byName.set(def.name, timer);
        if (def.atStart === 'wait') await first;
      }
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return stopAll;
}
