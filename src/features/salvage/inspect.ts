// The hashing pass, also the worker module of the catalogue's pool (pool.ts): it imports only
// node: modules, so a worker loads nothing else.
import fs from 'node:fs';
import crypto from 'node:crypto';

/** One file for the hashing pass; `size` is what the walk saw (a hint: the bytes read are what counts). */
export interface HashTask {
  file: string;
  size: number;
}

export type Hashed = { sha256: string; size: number } | { error: string };

/** One distinct content to decode (pass 2): read from `file`, checked to still hold `sha256`. */
export interface ImageTask {
  file: string;
  sha256: string;
}

/** Images larger than this are catalogued (hashed) but not decoded: reading one whole would cost its size in memory. */
export const DECODE_LIMIT = 64 * 1024 * 1024;

// Reads go through one reused buffer per thread: nothing is allocated per file, whatever its size.
const CHUNK = 1024 * 1024;
let scratch: Buffer | null = null;

/** Opens read-only; O_NOATIME leaves even the access time alone when we own the file (else plain read-only). */
export function openReadOnly(file: string): number {
  try {
    return fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOATIME);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPERM') return fs.openSync(file, fs.constants.O_RDONLY);
    throw err;
  }
}

/** SHA-256 and length of what one file holds now, read to its end in 1 MB reads (one read for most uploads). */
export function hashFile(file: string): { sha256: string; size: number } {
  scratch ??= Buffer.allocUnsafe(CHUNK);
  const fd = openReadOnly(file);
  try {
    const hash = crypto.createHash('sha256');
    let size = 0;
    for (;;) {
      const n = fs.readSync(fd, scratch, 0, CHUNK, null);
      if (n === 0) break;
      hash.update(scratch.subarray(0, n));
      size += n;
    }
    return { sha256: hash.digest('hex'), size };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The hashing pass over a chunk of files, synchronously: in a worker thread the
 * reads block only that thread, and one message carries many files. Never writes.
 */
export function hashFiles(tasks: HashTask[]): Hashed[] {
  return tasks.map((t) => {
    try {
      return hashFile(t.file);
    } catch (err) {
      return { error: (err as NodeJS.ErrnoException).code ?? (err as Error).message.split('\n')[0]! };
    }
  });
}
