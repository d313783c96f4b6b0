import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Options } from 'csv-parse';
import type { InputEncoding } from './parse';

/** A single record larger than this is refused rather than read whole into memory (an unclosed quote, say). */
export const MAX_RECORD_BYTES = 1024 * 1024;

/** The same options readTable uses, for streamed parsing. */
export function csvOptions(delimiter: string): Options {
  return {
    delimiter,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    info: true,
    trim: true,
    max_record_size: MAX_RECORD_BYTES,
  };
}

export interface CsvJob {
  file: string;
  encoding: InputEncoding;
  delimiter: string;
}

export interface CsvWorkerMessage {
  records: Array<{ line: number; cells: string[] }>;
  done?: boolean;
  error?: string;
}

/**
 * Every record of a CSV file, parsed in a worker thread (see csv-worker.ts)
 * and handed over in batches as they are consumed. Under tsx (development,
 * tests) the worker runs the TypeScript source; built, the compiled file.
 */
export async function* csvRecordsInWorker(job: CsvJob): AsyncGenerator<{ line: number; cells: string[] }> {
  const ext = path.extname(__filename);
  const entry = path.join(__dirname, `csv-worker${ext}`);
  // A worker does not inherit tsx's loader: under tsx, register its require hook first, then load the source.
  const worker =
    ext === '.ts'
      ? new Worker(`require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(entry)});`, { eval: true, workerData: job })
      : new Worker(entry, { workerData: job });
  const next = () =>
    new Promise<CsvWorkerMessage>((resolve, reject) => {
      const onMessage = (m: CsvWorkerMessage) => {
        worker.off('error', onError);
        worker.off('exit', onExit);
        resolve(m);
      };
      const onError = (err: Error) => {
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        reject(err);
      };
      const onExit = (code: number) => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        reject(new Error(`CSV worker exited with code ${code}`));
      };
      worker.once('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
    });
  try {
    for (;;) {
      const m = await next();
      if (m.error) throw new Error(m.error);
      yield* m.records;
      if (m.done) return;
      worker.postMessage('more');
    }
  } finally {
    await worker.terminate();
  }
}
