import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Request } from 'express';
import type { AppContext } from '../../../app-context';
import busboy from 'busboy';
import iconv from 'iconv-lite';
import { parse as parseCsvStream } from 'csv-parse';
import { HttpError, BadRequest } from '../../../http/errors';
import { isWriteFailure } from '../../../files/write-failures';
import { writeFileAtomic } from '../../../files/atomic-write';
import { csvOptions, csvRecordsInWorker, MAX_RECORD_BYTES } from './csv-stream';
import { candidateFrom, pickDelimiter, looksLikeAddress, type Candidate, type ImportFormat, type InputEncoding, type Mapping, type Table } from './parse';

/**
 * Uploaded address files, spooled to disk as they arrive (never held whole
 * in memory), described by a small JSON file beside them. The mapping page
 * reads only the head of the file; the import streams the rest; uploads
 * that are never mapped are deleted after CAMPAIGN_UPLOAD_TTL_HOURS.
 */
export interface SpooledUpload {
  filename: string;
  format: ImportFormat;
  /** Resolved when the file arrived: a BOM or valid UTF-8 throughout means UTF-8, otherwise CP932. */
  encoding: InputEncoding;
  bytes: number;
  /** Physical lines, counted on the way in (quoted line breaks included), for "about N rows". */
  lines: number;
  createdAt: string;
}

export interface SpoolResult {
  key: string;
  fields: Record<string, string>;
  /** Null when the form carried no file (or an empty one). */
  upload: Omit<SpooledUpload, 'format' | 'encoding'> & { utf8: boolean; bom: boolean } | null;
}

const KEY = /^[0-9a-f]{24}$/;
const HEAD_BYTES = 64 * 1024;

export const dataPath = (dir: string, key: string) => path.join(dir, `${key}.data`);
const metaPath = (dir: string, key: string) => path.join(dir, `${key}.json`);

/**
 * Reads a multipart form, writing its one file straight to `dir` (mode 0600)
 * while checking on the way whether it is valid UTF-8 and counting its
 * lines. Nothing of a failed or oversized upload stays on disk.
 */
export function spoolMultipartUpload(req: Request, dir: string, maxFileBytes: number): Promise<SpoolResult> {
  const key = crypto.randomBytes(12).toString('hex');
  const file = dataPath(dir, key);
  return new Promise<SpoolResult>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxFileBytes, fields: 50 } });
    } catch {
      reject(BadRequest('errors.bad_request'));
      return;
    }
    const result: SpoolResult = { key, fields: {}, upload: null };
    let writing: Promise<void> | null = null;
    let failure: HttpError | null = null;
    parser.on('field', (name, value) => {
      result.fields[name] = value;
    });
    parser.on('file', (_field, stream, info) => {
      const filename = info.filename?.split(/[\\/]/).pop();
      if (!filename || writing) {
        stream.resume(); // browsers send an empty part when no file was chosen
        return;
      }
      const stats = { bytes: 0, lines: 0, utf8: true, bom: false };
      const decoder = new TextDecoder('utf-8', { fatal: true });
      const inspect = new Transform({
        transform(chunk: Buffer, _enc, done) {
          if (stats.bytes === 0) stats.bom = chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf;
          stats.bytes += chunk.length;
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) stats.lines++;
          if (stats.utf8) {
            try {
              decoder.decode(chunk, { stream: true });
            } catch {
              stats.utf8 = false;
            }
          }
          done(null, chunk);
        },
      });
      // busboy ends the stream at the limit; the truncated file is removed below.
      stream.on('limit', () => {
        failure = new HttpError(413, 'errors.too_large');
      });
      writing = (async () => {
        await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
        await pipeline(stream, inspect, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }));
        if (stats.utf8) {
          try {
            decoder.decode(); // a truncated sequence at the very end
          } catch {
            stats.utf8 = false;
          }
        }
        if (stats.bytes > 0 && stats.lines > 0 && !(await endsWithNewline(file))) stats.lines++;
        else if (stats.bytes > 0 && stats.lines === 0) stats.lines = 1;
        result.upload = { filename, createdAt: new Date().toISOString(), ...stats };
      })();
    });
    const finish = async (err?: unknown) => {
      try {
        await writing;
      } catch (e) {
        // A full disk stays what it is (the route answers 507 and raises the alert); anything else is a bad body.
        err ??= e instanceof HttpError || isWriteFailure(e) ? e : BadRequest('errors.bad_request');
      }
      err ??= failure ?? undefined;
      if (err || !result.upload || result.upload.bytes === 0) {
        await fs.promises.rm(file, { force: true });
        if (err) return reject(err);
        result.upload = null;
      }
      resolve(result);
    };
    parser.on('error', () => void finish(BadRequest('errors.bad_request')));
    parser.on('close', () => void finish());
    req.pipe(parser);
  });
}

async function endsWithNewline(file: string): Promise<boolean> {
  const h = await fs.promises.open(file, 'r');
  try {
    const { size } = await h.stat();
    const b = Buffer.alloc(1);
    await h.read(b, 0, 1, size - 1);
    return b[0] === 10;
  } finally {
    await h.close();
  }
}

/** Records what the spooled file is, so the mapping page and the import can find it. */
export async function saveUploadMeta(dir: string, key: string, upload: SpooledUpload): Promise<void> {
  await writeFileAtomic(metaPath(dir, key), JSON.stringify(upload), { mode: 0o600 });
}

/** The upload's description, or null when the key is malformed, unknown or swept. */
export async function loadUploadMeta(dir: string, key: string): Promise<SpooledUpload | null> {
  if (!KEY.test(key)) return null;
  try {
    const upload = JSON.parse(await fs.promises.readFile(metaPath(dir, key), 'utf8')) as SpooledUpload;
    await fs.promises.access(dataPath(dir, key));
    return upload;
  } catch {
    return null;
  }
}

export async function removeUpload(dir: string, key: string): Promise<void> {
  await fs.promises.rm(dataPath(dir, key), { force: true });
  await fs.promises.rm(metaPath(dir, key), { force: true });
}

/** The file's text, decoded as it streams (a UTF-8 BOM is dropped; Shift_JIS is read as CP932). */
function decodedStream(file: string, encoding: InputEncoding, end?: number): { source: Readable; decoder: NodeJS.ReadWriteStream } {
  const source = fs.createReadStream(file, { highWaterMark: 64 * 1024, ...(end === undefined ? {} : { end }) });
  return { source, decoder: iconv.decodeStream(encoding === 'shift_jis' ? 'cp932' : 'utf8', { stripBOM: true }) };
}

async function delimiterOf(file: string, encoding: InputEncoding): Promise<string> {
  const h = await fs.promises.open(file, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await h.read(buf, 0, HEAD_BYTES, 0);
    const text = iconv.decode(buf.subarray(0, bytesRead), encoding === 'shift_jis' ? 'cp932' : 'utf8');
    return pickDelimiter(text.replace(/^\ufeff/, '').split(/\r?\n/, 1)[0] ?? '');
  } finally {
    await h.close();
  }
}

/** The first `limit` records, parsed here (a few hundred kilobytes at most, whatever the file's size). */
async function headRecords(file: string, encoding: InputEncoding, limit: number): Promise<Table['records']> {
  const { source, decoder } = decodedStream(file, encoding);
  const parser = parseCsvStream({ ...csvOptions(await delimiterOf(file, encoding)), to: limit });
  const done = pipeline(source, decoder, parser).catch((err: unknown) => err);
  const records: Table['records'] = [];
  try {
    for await (const r of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      records.push({ line: r.info.lines, cells: r.record });
      if (records.length >= limit) break;
    }
  } catch {
    throw new HttpError(422, 'campaigns.map.unreadable', { max: MAX_RECORD_BYTES / 1024 / 1024 });
  } finally {
    source.destroy();
    parser.destroy();
    await done;
  }
  return records;
}

/** The first `count` records, for the mapping page: this page costs the same for 60 bytes or 60 MB. */
export async function readTableHead(dir: string, key: string, upload: SpooledUpload, count: number): Promise<Table> {
  const records = await headRecords(dataPath(dir, key), upload.encoding, count + 1);
  const first = records[0];
  if (first && !first.cells.some(looksLikeAddress)) return { header: first.cells, records: records.slice(1) };
  return { header: null, records: records.slice(0, count) };
}

/** Every row of the file as a candidate, parsed in a worker thread, with a header row recognised as readTable does. */
export async function* streamTableCandidates(dir: string, key: string, upload: SpooledUpload, m: Mapping): AsyncGenerator<Candidate> {
  let first = true;
  const file = dataPath(dir, key);
  const job = { file, encoding: upload.encoding, delimiter: await delimiterOf(file, upload.encoding) };
  for await (const r of csvRecordsInWorker(job)) {
    if (first) {
      first = false;
      if (!r.cells.some(looksLikeAddress)) continue;
    }
    yield candidateFrom(r, m);
  }
}

/**
 * Deletes uploads (and stray partial files) older than the TTL: an admin
 * who uploads and never maps leaves nothing behind. Run at start, every
 * so often, and before each new upload. Returns the keys removed.
 */
export async function sweepStaleUploads(dir: string, ttlMs: number, now = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return [];
  }
  const removed = new Set<string>();
  for (const name of names) {
    const full = path.join(dir, name);
    const stat = await fs.promises.stat(full).catch(() => null);
    if (!stat?.isFile() || now - stat.mtimeMs < ttlMs) continue;
    await fs.promises.rm(full, { force: true });
    removed.add(name.split('.')[0]!);
    await yieldToLoop();
  }
  return [...removed];
}

/** Where uploads wait for their mapping: DATA_DIR/campaign-uploads. */
export const uploadDir = (ctx: AppContext) => path.join(ctx.config.DATA_DIR, 'campaign-uploads');

/** Deletes uploads nobody mapped within CAMPAIGN_UPLOAD_TTL_HOURS (the campaigns.sweep-uploads timer, and before each upload). */
export function sweepUploads(ctx: AppContext): Promise<string[]> {
  return sweepStaleUploads(uploadDir(ctx), ctx.config.CAMPAIGN_UPLOAD_TTL_HOURS * 3600_000);
}
