/**
 * Parses a spooled address CSV in a worker thread, so a 60 MB file never
 * holds the web process's event loop. Records go to the parent in batches;
 * the next batch is parsed only once the parent asks for it, so at most one
 * batch (plus csv-parse's 64 KB window) is in memory at a time.
 */
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { pipeline } from 'node:stream/promises';
import iconv from 'iconv-lite';
import { parse } from 'csv-parse';
import { csvOptions, type CsvJob, type CsvWorkerMessage } from './csv-stream';

const BATCH = 2000;

async function main(job: CsvJob) {
  const port = parentPort!;
  const more = () => new Promise<void>((resolve) => port.once('message', () => resolve()));
  const parser = parse(csvOptions(job.delimiter));
  const done = pipeline(fs.createReadStream(job.file, { highWaterMark: 64 * 1024 }), iconv.decodeStream(job.encoding === 'shift_jis' ? 'cp932' : 'utf8', { stripBOM: true }), parser);
  let batch: Array<{ line: number; cells: string[] }> = [];
  for await (const r of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    batch.push({ line: r.info.lines, cells: r.record });
    if (batch.length >= BATCH) {
      port.postMessage({ records: batch } satisfies CsvWorkerMessage);
      batch = [];
      await more();
    }
  }
  await done;
  port.postMessage({ records: batch, done: true } satisfies CsvWorkerMessage);
}

main(workerData as CsvJob).catch((err: Error) => {
  parentPort!.postMessage({ records: [], error: err.message } satisfies CsvWorkerMessage);
});
