import path from 'node:path';
import { Piscina } from 'piscina';
import { inspectFile, type InspectTask, type Inspection } from './inspect';

export interface Inspector {
  inspect(task: InspectTask): Promise<Inspection>;
  /** How many tasks to keep in flight. */
  concurrency: number;
  close(): Promise<void>;
}

/**
 * Worker threads can load the worker module when it is compiled JavaScript, or
 * when the process runs under tsx (workers inherit `--import tsx`). Inside jest
 * neither holds, and the work runs on the main thread's libuv pool instead.
 */
function workersAvailable(): boolean {
  if (__filename.endsWith('.js')) return true;
  return process.execArgv.some((a) => a.includes('tsx')) || (process.env.NODE_OPTIONS ?? '').includes('tsx');
}

/** Hashing and decoding spread over the machine's cores (piscina), or inline when workers cannot load. */
export function createInspector(threads = 1): Inspector {
  if (!workersAvailable() || threads < 2) {
    return { inspect: inspectFile, concurrency: 4, close: async () => undefined };
  }
  const pool = new Piscina({
    filename: path.join(__dirname, `inspect-worker${path.extname(__filename)}`),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: 1000,
  });
  return {
    inspect: (task) => pool.run(task) as Promise<Inspection>,
    concurrency: threads * 2,
    close: () => pool.destroy(),
  };
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping input order in the result. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
