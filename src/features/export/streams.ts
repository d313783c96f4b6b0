import crypto from 'node:crypto';
import { Transform, type Readable, type Writable, type TransformCallback } from 'node:stream';

export const CHUNK_BYTES = 64 * 1024;

/**
 * Joins small chunks (COPY sends one message per row) into ~64 KB ones:
 * deflate and the ZIP writer slow to a crawl on tiny writes.
 */
export async function* coalesce(source: AsyncIterable<Buffer | string>, size = CHUNK_BYTES): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of source) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    parts.push(buf);
    length += buf.length;
    if (length >= size) {
      yield parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
      parts = [];
      length = 0;
    }
  }
  if (length > 0) yield Buffer.concat(parts, length);
}

export interface Digest {
  size: number;
  sha256: string;
}

/** Passes bytes through while computing size and SHA-256 (for manifest.json). */
export class Hasher extends Transform {
  private readonly hash = crypto.createHash('sha256');
  private size = 0;
  readonly done: Promise<Digest>;
  private resolve!: (d: Digest) => void;

  constructor() {
    super();
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.resolve({ size: this.size, sha256: this.hash.digest('hex') });
    cb();
  }
}

const NL = 0x0a;
const QUOTE = 0x22;
const CRLF = Buffer.from('\r\n');

/**
 * COPY's JSON lines ("{..}\n{..}\n") become array items ("{..},\n{..}"):
 * every newline gets a comma before it, and the last ",\n" is dropped.
 * Also counts the rows.
 */
export async function* jsonLinesToArrayItems(source: AsyncIterable<Buffer>, onRows: (n: number) => void): AsyncGenerator<Buffer> {
  let pendingTail = false;
  let rows = 0;
  for await (const chunk of source) {
    const out: Buffer[] = [];
    if (pendingTail) out.push(Buffer.from(',\n'));
    pendingTail = false;
    let start = 0;
    let idx = chunk.indexOf(NL, start);
    while (idx !== -1) {
      rows += 1;
      out.push(chunk.subarray(start, idx));
      if (idx === chunk.length - 1) pendingTail = true;
      else out.push(Buffer.from(',\n'));
      start = idx + 1;
      idx = chunk.indexOf(NL, start);
    }
    if (start < chunk.length) out.push(chunk.subarray(start));
    yield Buffer.concat(out);
  }
  onRows(rows);
}

/**
 * PostgreSQL's CSV ends lines with LF; RFC 4180 wants CRLF. Newlines inside
 * quoted fields are data and stay as they are. Also counts records.
 */
export async function* lfToCrlf(source: AsyncIterable<Buffer>, onRecords: (n: number) => void): AsyncGenerator<Buffer> {
  let inQuotes = false;
  let records = 0;
  for await (const chunk of source) {
    // Native indexOf jumps between quotes and newlines; most bytes are never looked at in JavaScript.
    const parts: Buffer[] = [];
    let start = 0;
    let pos = 0;
    let q = chunk.indexOf(QUOTE, pos);
    for (;;) {
      const n = chunk.indexOf(NL, pos);
      if (n === -1) break;
      if (q !== -1 && q < n) {
        inQuotes = !inQuotes;
        pos = q + 1;
        q = chunk.indexOf(QUOTE, pos);
        continue;
      }
      if (!inQuotes) {
        parts.push(chunk.subarray(start, n), CRLF);
        start = n + 1;
        records += 1;
      }
      pos = n + 1;
    }
    // quotes after the last newline still change the state for the next chunk
    while (q !== -1) {
      inQuotes = !inQuotes;
      q = chunk.indexOf(QUOTE, q + 1);
    }
    parts.push(chunk.subarray(start));
    yield parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
  onRecords(records);
}

const LT = 0x3c;
const LT_ESCAPED = Buffer.from('\\u003c');

/** JSON safe inside <script>: "<" only occurs inside strings, where \u003c means the same. */
export async function* escapeLessThan(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    let idx = chunk.indexOf(LT);
    if (idx === -1) {
      yield chunk;
      continue;
    }
    const parts: Buffer[] = [];
    let start = 0;
    while (idx !== -1) {
      parts.push(chunk.subarray(start, idx), LT_ESCAPED);
      start = idx + 1;
      idx = chunk.indexOf(LT, start);
    }
    parts.push(chunk.subarray(start));
    yield Buffer.concat(parts);
  }
}

/**
 * Copies a readable into several writables, waiting for the slowest (bounded
 * memory). Targets in `keepOpen` are not ended: the caller ends them.
 */
export function teeInto(source: Readable, targets: Writable[], keepOpen: Writable[] = []): Promise<void> {
  return new Promise((resolve, reject) => {
    let waiting = 0;
    const resume = () => {
      waiting -= 1;
      if (waiting === 0) source.resume();
    };
    source.on('data', (chunk: Buffer) => {
      for (const t of targets) {
        if (!t.write(chunk)) {
          waiting += 1;
          source.pause();
          t.once('drain', resume);
        }
      }
    });
    source.once('error', reject);
    // A target that fails (ENOSPC on the disk copy) stops the source too, so the producer
    // upstream sees the error instead of waiting on back-pressure forever.
    for (const t of targets) {
      t.once('error', (err) => {
        reject(err);
        source.destroy(err);
      });
    }
    source.once('end', () => {
      // end() without a callback: express-session's wrapped res.end takes its first argument as data.
      const closing = targets.filter((t) => !keepOpen.includes(t));
      const finished = closing.map((t) => new Promise<void>((r) => (t.writableFinished ? r() : t.once('finish', () => r()))));
      for (const t of closing) t.end();
      Promise.all(finished).then(() => resolve(), reject);
    });
  });
}
