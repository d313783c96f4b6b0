import fs from 'node:fs';
import zlib from 'node:zlib';
import iconv from 'iconv-lite';
import tar from 'tar-stream';
import { classifyPath } from './naming';

export type TextEncoding = 'utf8' | 'utf8-bom' | 'utf16le' | 'utf16le-bom' | 'utf16be' | 'utf16be-bom';

export type Sniffed =
  | { type: 'custom_dump'; gzip: boolean; why: string; archiveVersion: string }
  | { type: 'plain_dump'; gzip: boolean; encoding: TextEncoding; why: string; serverVersion: string | null }
  | { type: 'docker_json_log'; why: string }
  | { type: 'uploads_tarball'; gzip: boolean; why: string; sampleNames: string[] }
  | null;

const HEAD = 64 * 1024;

/** Reads at most `n` bytes from the start of a file, opened read-only. */
export async function readHead(file: string, n = HEAD): Promise<Buffer> {
  // O_NOATIME leaves even the access time alone; only the owner (or root) may ask for it.
  const fh = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NOATIME).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EPERM') return fs.promises.open(file, fs.constants.O_RDONLY);
    throw err;
  });
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The text encoding of a head: by BOM, else by where the zero bytes fall (UTF-16 without BOM), else UTF-8. */
export function detectEncoding(head: Buffer): TextEncoding {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return 'utf8-bom';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf16le-bom';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf16be-bom';
  const n = Math.min(head.length, 512) & ~1;
  let evenZero = 0;
  let oddZero = 0;
  for (let i = 0; i < n; i += 2) {
    if (head[i] === 0) evenZero++;
    if (head[i + 1] === 0) oddZero++;
  }
  if (n >= 16 && oddZero > n / 4 && evenZero < n / 32) return 'utf16le';
  if (n >= 16 && evenZero > n / 4 && oddZero < n / 32) return 'utf16be';
  return 'utf8';
}

export function decodeText(buf: Buffer, enc: TextEncoding): string {
  const base = enc.replace('-bom', '') as 'utf8' | 'utf16le' | 'utf16be';
  const skip = enc === 'utf8-bom' ? 3 : enc.endsWith('-bom') ? 2 : 0;
  return iconv.decode(buf.subarray(skip), base === 'utf16be' ? 'utf16be' : base);
}

const DUMP_HEADER = /^-- PostgreSQL database dump\s*$/m;

function sniffPlain(head: Buffer, gzip: boolean): Sniffed {
  const encoding = detectEncoding(head);
  const text = decodeText(head.subarray(0, Math.min(head.length, 8192)), encoding);
  if (!DUMP_HEADER.test(text.replace(/\r/g, ''))) return null;
  const serverVersion = /^-- Dumped from database version (\S+)/m.exec(text)?.[1] ?? null;
  const how = `${encoding.replace('-bom', ' with BOM')}${gzip ? ', gzip' : ''}`;
  return { type: 'plain_dump', gzip, encoding, serverVersion, why: `"-- PostgreSQL database dump" header (${how})${serverVersion ? `, from PostgreSQL ${serverVersion}` : ''}` };
}

async function tarNames(buf: Buffer): Promise<string[] | null> {
  if (buf.length < 512 || buf.subarray(257, 262).toString('latin1') !== 'ustar') return null;
  const names: string[] = [];
  await new Promise<void>((resolve) => {
    const ex = tar.extract();
    ex.on('entry', (h, stream, next) => {
      names.push(h.name);
      stream.on('end', next);
      stream.resume();
    });
    ex.on('finish', resolve);
    ex.on('error', () => resolve()); // only the head was given: the end is always "unexpected"
    ex.end(buf);
  });
  return names;
}

function sniffDockerLog(head: Buffer): Sniffed {
  if (head[0] !== 0x7b) return null;
  const line = head.toString('utf8').split('\n', 1)[0]!;
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    if (typeof o.log === 'string' && typeof o.stream === 'string' && typeof o.time === 'string') return { type: 'docker_json_log', why: 'JSON lines with log, stream and time (Docker json-file driver)' };
  } catch {
    return null;
  }
  return null;
}

/** What a file is, from its first bytes only: a dump, a Docker log, a tarball of uploads, or nothing of interest. */
export async function sniffFile(file: string): Promise<Sniffed> {
  const raw = await readHead(file);
  let head = raw;
  let gzip = false;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    gzip = true;
    try {
      head = zlib.gunzipSync(raw, { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: 4 * HEAD });
    } catch {
      return null;
    }
  }
  if (head.subarray(0, 5).toString('latin1') === 'PGDMP') {
    return { type: 'custom_dump', gzip, archiveVersion: `${head[5]}.${head[6]}.${head[7]}`, why: `PGDMP magic (custom-format archive ${head[5]}.${head[6]}.${head[7]})${gzip ? ' inside gzip' : ''}` };
  }
  const names = await tarNames(head);
  if (names) {
    const uploads = names.filter((n) => classifyPath(n).kind !== 'other');
    if (!uploads.length) return null;
    return { type: 'uploads_tarball', gzip, sampleNames: uploads.slice(0, 5), why: `tar${gzip ? '.gz' : ''} whose entries follow TOYBOX's upload names (${uploads.length} of the first ${names.length})` };
  }
  if (!gzip) {
    const log = sniffDockerLog(head);
    if (log) return log;
  }
  return sniffPlain(head, gzip);
}
