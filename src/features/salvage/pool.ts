import os from 'node:os';
import path from 'node:path';
import type { Piscina } from 'piscina';
import { hashFiles, type HashTask, type Hashed, type ImageTask } from './inspect';
import type { ImageResult } from './image-analysis';

export interface Workers {
  /** SHA-256 of each file, in order (a chunk per message). */
  hash(tasks: HashTask[]): Promise<Hashed[]>;
  /** Decodes one image (pass 2). */
  analyse(task: ImageTask): Promise<ImageResult>;
  /** How many files to hash or images to decode at once: the cores to use. */
  threads: number;
  /** Stops the hashing workers (a later hash starts them again). */
  close(): Promise<void>;
}

// Images are decoded from the main thread: sharp already runs each decode on libuv's threads
// (one libvips thread each), so `threads` decodes in flight keep `threads` cores busy. Decoding in
// worker threads instead measured no faster and cost ~30 MB more (a sharp and a heap per worker).
const analyseHere = async (task: ImageTask): Promise<ImageResult> => (await import('./image-analysis')).analyseImage(task);

/**
 * Worker threads can load the worker module when it is compiled JavaScript (dist/, the
 * Docker image). Under tsx (npm run cli, the tests) they cannot: tsx's hooks do not reach
 * worker threads (a .ts module fails to load there, tried with tsx 4 on Node 20), so the
 * hashing runs on the main thread.
 */
export function workersAvailable(): boolean {
  return __filename.endsWith('.js');
}

/**
 * The default for `--threads`: every core (at most 4, each worker holds its own heap) when
 * workers can load, else the main thread alone.
 */
export function defaultThreads(): number {
  return workersAvailable() ? Math.min(4, os.availableParallelism()) : 1;
}

/**
 * Hashing on `threads` worker threads (piscina), or on the main thread when workers
 * cannot load or one thread is asked for. A hashing worker needs little heap (its
 * reads go through one off-heap buffer), so its heap is capped.
 */
export function createWorkers(threads = defaultThreads()): Workers {
  if (!workersAvailable() || threads < 2) {
    return { hash: async (tasks) => hashFiles(tasks), analyse: analyseHere, threads: Math.max(1, threads), close: async () => undefined };
  }
  // Loaded and started on the first chunk to hash (a re-run over an unchanged tree hashes nothing).
  let pool: Promise<Piscina> | null = null;
  const started = () =>
    (pool ??= import('piscina').then(
      ({ Piscina }) =>
        new Piscina({
          filename: path.join(__dirname, `inspect${path.extname(__filename)}`),
          minThreads: threads,
          maxThreads: threads,
          idleTimeout: 1000,
          resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 2 },
        }),
    ));
  return {
    hash: async (tasks) => (await started()).run(tasks, { name: 'hashFiles' }) as Promise<Hashed[]>,
    analyse: analyseHere,
    threads,
    close: async () => {
      const p = pool;
      pool = null;
      if (p) await (await p).destroy();
    },
  };
}
