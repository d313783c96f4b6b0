import { createPbkdf2Pool, type Pbkdf2 } from './hash-workers';

/**
 * Bounds how many password hashes run at once. A Django hash costs ~200 ms of
 * CPU (1,000,000 PBKDF2 iterations); on a 2-core machine a sign-in rush would
 * otherwise put every core on hashing and starve the banner, the status page
 * and everything else. Work beyond `concurrency` waits in a short queue; when
 * the queue is full, or a wait passes its deadline, the caller gets
 * HashGateBusy at once (the route answers 503 with Retry-After) instead of
 * piling up behind the others.
 *
 * Written here rather than taken from p-limit: p-limit 4+ is ESM-only (jest
 * here runs CommonJS) and cannot drop a queued task when its deadline passes.
 */
export interface HashGateOptions {
  /** Hashes running at the same time. */
  concurrency: number;
  /** Hashes waiting for a slot; one more is refused at once. */
  maxQueue: number;
  /** The longest a hash may wait for a slot before it is refused. */
  maxWaitMs: number;
}

export class HashGateBusy extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many sign-ins at once');
  }
}

interface Waiter {
  start: () => void;
  timer: NodeJS.Timeout;
}

export interface HashGate {
  run<T>(work: () => Promise<T>): Promise<T>;
  stats(): { active: number; queued: number };
  /** Every slot busy and the queue full: the next run would be refused. */
  saturated(): boolean;
  /** What Retry-After says when a run is refused. */
  retryAfterSeconds: number;
  /** PBKDF2 on `concurrency` low-priority worker threads (hash-workers.ts). */
  pbkdf2: Pbkdf2;
}

export function createHashGate(opts: HashGateOptions): HashGate {
  let active = 0;
  const queue: Waiter[] = [];
  const retryAfter = () => Math.max(1, Math.ceil(opts.maxWaitMs / 1000));

  const release = () => {
    const next = queue.shift();
    if (!next) {
      active--;
      return;
    }
    clearTimeout(next.timer);
    next.start(); // the slot passes straight to the next waiter
  };

  const acquire = () =>
    new Promise<void>((resolve, reject) => {
      if (active < opts.concurrency) {
        active++;
        resolve();
        return;
      }
      if (queue.length >= opts.maxQueue) {
        reject(new HashGateBusy(retryAfter()));
        return;
      }
      const waiter: Waiter = {
        start: resolve,
        timer: setTimeout(() => {
          queue.splice(queue.indexOf(waiter), 1);
          reject(new HashGateBusy(retryAfter()));
        }, opts.maxWaitMs),
      };
      queue.push(waiter);
    });

  return {
    async run(work) {
      await acquire();
      try {
        return await work();
      } finally {
        release();
      }
    },
    stats: () => ({ active, queued: queue.length }),
    saturated: () => active >= opts.concurrency && queue.length >= opts.maxQueue,
    retryAfterSeconds: retryAfter(),
    pbkdf2: createPbkdf2Pool(opts.concurrency),
  };
}

export function hashGateFrom(config: { LOGIN_HASH_CONCURRENCY: number; LOGIN_QUEUE_MAX: number; LOGIN_QUEUE_WAIT_MS: number }): HashGate {
  return createHashGate({ concurrency: config.LOGIN_HASH_CONCURRENCY, maxQueue: config.LOGIN_QUEUE_MAX, maxWaitMs: config.LOGIN_QUEUE_WAIT_MS });
}
