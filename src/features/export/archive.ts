import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import './native-crc32';
import yazl from 'yazl';
import { PERSONAL_DATA, jsonLinesCopySql, csvCopySql, mediaValuesSql } from '../../toybox/personal-data';
import { coalesce, Hasher, jsonLinesToArrayItems, lfToCrlf, escapeLessThan } from './streams';
import { MediaResolver, missingMediaLine, MISSING_MEDIA_HEADER, type MediaEntry } from './media';
import { signManifest, subjectOf, userGlobalId, type ManifestFile } from './signature';
import type { SigningKey } from '../../auth/archive-signing';
import { dataJsonSchema, FORMAT_VERSION } from './json-schema';
import { readmeText } from './readme-text';
import { viewerParts } from './viewer';
import { closeSink, createFileSink, ensurePrivateDir, writeChunk, type FileSink } from '../../files/private';
import { isoTokyo, tokyoDay } from '../../i18n/tokyo-time';

export type ExportFormat = 'zip' | 'json';

export interface ExportSubject {
  id: number;
  display_id: string;
}

export interface ExportSettings {
  databaseUrl: string;
  mediaDir?: string;
  /** Scratch space for the viewer's copy of data.json and the media spool. */
  tmpDir: string;
  /** Prefix of this export's scratch files (the job id), so a restart can find and remove them. */
  scratchId?: string;
  /** PGlite shares session state and serialises transactions: no long snapshot there. */
  embedded: boolean;
  lang: 'ja' | 'en';
  /** zlib level for the text entries; 1 keeps deflate from being the bottleneck. */
  compressionLevel?: number;
  /** Host of TOYBOX_URL: the `<site host>` in every row's global id. */
  toyboxHost: string;
  /** Who signs manifest.json (ZIP only): this portal's PUBLIC_URL and its Ed25519 key. */
  signer: { site: string; key: SigningKey };
}

export interface ExportResult {
  rows: number;
  counts: Record<string, number>;
  files: number;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

async function openClient(settings: ExportSettings): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: settings.databaseUrl });
  client.on('error', () => undefined); // surfaced through the failing COPY stream instead
  await client.connect();
  if (!settings.embedded) {
    // One snapshot for every file, so data.json, the CSVs and the counts agree.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // Times in data.json and the CSVs are read by people: ISO 8601 in Japan time, with its +09:00 offset.
    await client.query("SET LOCAL TimeZone = 'Asia/Tokyo'");
  }
  return client;
}

/** Ends the connection; a COPY cut off mid-stream may never answer, so its socket is closed instead. */
async function closeClient(client: pg.Client): Promise<void> {
  const ended = await Promise.race([
    client.end().then(() => true, () => true),
    new Promise<false>((r) => setTimeout(() => r(false), 1000).unref()),
  ]);
  if (!ended) (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

function copy(client: pg.Client, sql: string): AsyncIterable<Buffer> {
  const stream = client.query(copyTo(sql));
  // An export cut short ends the connection under a COPY nobody reads any more; that error is expected.
  stream.on('error', () => undefined);
  return stream;
}

/**
 * Where the media index goes besides data.json: the files to add and the
 * missing-media.txt lines are spooled to disk, so a media-heavy account
 * costs disk, not memory.
 */
class MediaSpool {
  private readonly index: FileSink;
  private readonly included: FileSink;
  private readonly missing: FileSink;

  constructor(dir: string, id: string) {
    this.index = createFileSink(path.join(dir, `${id}-media-index.jsonl`));
    this.included = createFileSink(path.join(dir, `${id}-media.jsonl`));
    this.missing = createFileSink(path.join(dir, `${id}-missing.txt`));
  }

  /** Every media value in data.json's order (one MediaEntry per line, without hashes). */
  get indexFile(): string {
    return this.index.path;
  }

  /** The files to copy: [archive path, file on disk] per line. */
  get includedFile(): string {
    return this.included.path;
  }

  get missingFile(): string {
    return this.missing.path;
  }

  async record(m: MediaEntry): Promise<void> {
    await writeChunk(this.index, `${JSON.stringify(m)}\n`);
    const line = m.status === 'included' ? `${JSON.stringify([m.path, m.file])}\n` : missingMediaLine(m)!;
    await writeChunk(m.status === 'included' ? this.included : this.missing, line);
  }

  /** Flushes the files; rejects if any could not be written (disk full). */
  async close(): Promise<void> {
    await Promise.all([closeSink(this.index), closeSink(this.included), closeSink(this.missing)]);
  }

  async remove(): Promise<void> {
    await Promise.all([this.index.discard(), this.included.discard(), this.missing.discard()]);
  }
}

interface ExportState {
  counts: Record<string, number>;
  /** ZIP: the media index, resolved and already copied into the archive (hashes known); JSON: resolved and hashed as data.json is written. */
  media: (() => AsyncIterable<MediaEntry[]>) | null;
}

async function* lines(source: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of source) {
    const text = rest + chunk.toString('utf8');
    const parts = text.split('\n');
    rest = parts.pop()!;
    yield* parts;
  }
  if (rest) yield rest;
}

function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = crypto.createHash('sha256');
    fs.createReadStream(file, { highWaterMark: 256 * 1024 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Resolves a media value and, for a file that is there, hashes it (data.json names each file's SHA-256). */
async function resolveAndHash(resolver: MediaResolver, value: string): Promise<MediaEntry> {
  const m = await resolver.resolve(value);
  if (m.status !== 'included') return m;
  try {
    return { ...m, sha256: await hashFile(m.file!) };
  } catch {
    return { ...m, status: 'missing', file: undefined }; // vanished or unreadable between lstat and read
  }
}

/** The user's media values (one JSON string per COPY line), resolved (and hashed, for data.json alone) 64 at a time. */
async function* mediaBatches(client: pg.Client, userId: number, settings: ExportSettings, hash = true): AsyncGenerator<MediaEntry[]> {
  const resolver = await new MediaResolver(settings.mediaDir).init();
  const sql = `COPY (SELECT to_json(v) FROM (${mediaValuesSql(userId)}) m) TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')`;
  let pending: string[] = [];
  const one = (value: string) => (hash ? resolveAndHash(resolver, value) : resolver.resolve(value));
  const flush = () => Promise.all(pending.map((line) => one(JSON.parse(line) as string)));
  for await (const line of lines(copy(client, sql))) {
    pending.push(line);
    if (pending.length >= 64) {
      yield await flush();
      pending = [];
    }
  }
  if (pending.length) yield await flush();
}

/** The spooled media index in batches, each entry with the hash taken while its file was copied into the ZIP. */
async function* mediaIndex(indexFile: string, hashes: Map<string, string>, vanished: Set<string>, vanishedLines: string[]): AsyncGenerator<MediaEntry[]> {
  let batch: MediaEntry[] = [];
  for await (const line of lines(fs.createReadStream(indexFile))) {
    const m = JSON.parse(line) as MediaEntry;
    if (m.status === 'included' && m.path && vanished.has(m.path)) {
      const gone: MediaEntry = { ...m, status: 'missing', file: undefined };
      vanishedLines.push(missingMediaLine(gone)!);
      batch.push(gone);
    }
    else batch.push(m.status === 'included' && m.path ? { ...m, sha256: hashes.get(m.path) } : m);
    if (batch.length >= 256) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/** data.json, streamed: rows straight from COPY, media index last (so the first bytes leave at once). */
async function* dataJson(
  client: pg.Client,
  user: ExportSubject,
  settings: ExportSettings,
  exportedAt: string,
  state: ExportState,
): AsyncGenerator<Buffer> {
  yield Buffer.from(
    `{"format_version":${FORMAT_VERSION},"exported_at":${JSON.stringify(exportedAt)},` +
      `"user":${JSON.stringify({ id: user.id, display_id: user.display_id, global_id: userGlobalId(settings.toyboxHost, user.id) })},` +
      `"schema":"schema.json",\n"kinds":{`,
  );
  for (const [i, k] of PERSONAL_DATA.entries()) {
    yield Buffer.from(`${i > 0 ? ',' : ''}\n${JSON.stringify(k.kind)}:[\n`);
    yield* jsonLinesToArrayItems(copy(client, jsonLinesCopySql(k, user.id, settings.toyboxHost)), (n) => (state.counts[k.kind] = n));
    yield Buffer.from('\n]');
  }
  yield Buffer.from(`},\n"counts":${JSON.stringify(state.counts)},\n"media":[`);
  let first = true;
  for await (const batch of state.media ? state.media() : mediaBatches(client, user.id, settings)) {
    const out: string[] = [];
    for (const m of batch) {
      out.push(`${first ? '' : ','}\n${JSON.stringify({ source: m.source, path: m.path, status: m.status, sha256: m.sha256 ?? null })}`);
      first = false;
    }
    yield Buffer.from(out.join(''));
  }
  yield Buffer.from('\n]}\n');
}

async function* csvFor(client: pg.Client, sql: string, onRecords: (n: number) => void): AsyncGenerator<Buffer> {
  yield BOM;
  yield* lfToCrlf(copy(client, sql), onRecords);
}

/** Passes the chunks on while keeping a copy in `file` (removed again if anything fails). */
async function* teeToFile(source: AsyncIterable<Buffer>, file: string): AsyncGenerator<Buffer> {
  const out = createFileSink(file);
  let complete = false;
  try {
    for await (const chunk of source) {
      await writeChunk(out, chunk);
      yield chunk;
    }
    await closeSink(out);
    complete = true;
  } finally {
    if (!complete) await out.discard();
  }
}

async function* viewerHtml(dataFile: string, settings: ExportSettings): AsyncGenerator<Buffer> {
  const { head, tail } = viewerParts(settings.lang);
  yield Buffer.from(head);
  yield* escapeLessThan(fs.createReadStream(dataFile, { highWaterMark: 256 * 1024 }));
  yield Buffer.from(tail);
}

function countRows(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** Streams the user's data.json (format=json) into the sink. */
export async function writeJsonExport(user: ExportSubject, settings: ExportSettings, sink: Writable): Promise<ExportResult> {
  const client = await openClient(settings);
  const state: ExportState = { counts: {}, media: null };
  try {
    await pipeline(Readable.from(coalesce(dataJson(client, user, settings, isoTokyo(new Date()), state))), sink);
    return { rows: countRows(state.counts), counts: state.counts, files: 1 };
  } finally {
    await closeClient(client);
  }
}

/**
 * Streams the whole archive into the sink: README, data.json, one CSV per
 * kind, media files, missing-media.txt, schema.json, index.html, and
 * manifest.json with every other file's size and SHA-256 computed on the way.
 * Memory stays bounded: rows pass in 64 KB chunks and the media index is
 * spooled to disk (only the names of included files are kept, to keep ZIP
 * names unique).
 */
export async function writeZipExport(user: ExportSubject, settings: ExportSettings, sink: Writable): Promise<ExportResult> {
  const exportedAt = isoTokyo(new Date());
  const level = settings.compressionLevel ?? 1;
  const zip = new yazl.ZipFile();
  const written = pipeline(zip.outputStream, sink);
  // A sink that breaks (the browser went away) must stop the export, not leave it waiting on back-pressure.
  const broken = written.then(
    () => new Promise<never>(() => undefined),
    (err: unknown) => Promise.reject(err),
  );
  broken.catch(() => undefined);
  const step = <T>(p: Promise<T>) => Promise.race([p, broken]);
  const manifest: ManifestFile[] = [];
  const scratchId = settings.scratchId ?? crypto.randomBytes(8).toString('hex');
  await ensurePrivateDir(settings.tmpDir);
  const state: ExportState = { counts: {}, media: null };
  let spoolRef: MediaSpool | null = null;
  const csvRecords: Record<string, number> = {};
  const tmpFile = path.join(settings.tmpDir, `${scratchId}-viewer.json`);
  let failed: Error | null = null;
  zip.on('error', (err: Error) => (failed = err));

  const addBuffer = (name: string, data: Buffer | string) => {
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
    manifest.push({ path: name, size: buf.length, sha256: crypto.createHash('sha256').update(buf).digest('hex') });
    zip.addBuffer(buf, name, { compressionLevel: 6 });
  };
  const addStream = (name: string, make: () => AsyncIterable<Buffer> | Readable, opts: { compress: boolean; onHash?: (sha256: string) => void }) => {
    const added = new Promise<void>((resolve, reject) => {
      zip.addReadStreamLazy(name, opts.compress ? { compressionLevel: level } : { compress: false }, (cb) => {
        const source = make();
        const readable = source instanceof Readable ? source : Readable.from(coalesce(source));
        const hasher = new Hasher();
        hasher.on('error', reject);
        readable.on('error', (err) => {
          reject(err);
          hasher.destroy(err);
        });
        readable.pipe(hasher);
        hasher.done.then((d) => {
          manifest.push({ path: name, ...d });
          opts.onHash?.(d.sha256);
          resolve();
        }, reject);
        cb(null, hasher);
      });
    });
    // An export cut short leaves entries that fail later, when nobody waits for them any more.
    added.catch(() => undefined);
    return added;
  };

  let client: pg.Client | null = null;
  try {
    client = await openClient(settings);
    const subject = await subjectOf(client, user, settings.toyboxHost);
    addBuffer('README.txt', readmeText(user.display_id, exportedAt));
    // Media first, so each file is read once: hashed while it streams into the ZIP, and data.json (next)
    // names the hash of exactly the bytes the archive holds. Values come from the export's one snapshot.
    const spool = new MediaSpool(settings.tmpDir, scratchId);
    spoolRef = spool;
    for await (const batch of mediaBatches(client, user.id, settings, false)) for (const m of batch) await spool.record(m);
    await spool.close();
    const hashes = new Map<string, string>();
    const vanished = new Set<string>();
    for await (const line of lines(fs.createReadStream(spool.includedFile))) {
      const [archivePath, file] = JSON.parse(line) as [string, string];
      // ZIP names must be unique; different values can name the same file.
      if (hashes.has(archivePath) || vanished.has(archivePath)) continue;
      // Opened before its entry starts: a file gone since it was listed is "missing", not a broken archive.
      const handle = await fs.promises.open(file, 'r').catch(() => null);
      if (!handle) {
        vanished.add(archivePath);
        continue;
      }
      // Media files are mostly compressed already; storing them keeps the export fast.
      try {
        await step(addStream(archivePath, () => handle.createReadStream({ highWaterMark: 256 * 1024 }), { compress: false, onHash: (sha) => hashes.set(archivePath, sha) }));
      } catch (err) {
        await handle.close().catch(() => undefined); // the entry never started (the download was cut): the handle is still ours
        throw err;
      }
    }
    const vanishedLines: string[] = [];
    state.media = () => mediaIndex(spool.indexFile, hashes, vanished, vanishedLines);
    await step(addStream('data.json', () => teeToFile(dataJson(client!, user, settings, exportedAt, state), tmpFile), { compress: true }));
    for (const k of PERSONAL_DATA) {
      await step(
        addStream(`csv/${k.kind}.csv`, () => csvFor(client!, csvCopySql(k, user.id), (n) => (csvRecords[k.kind] = n - 1)), {
          compress: true,
        }),
      );
    }
    if (!settings.embedded) await client.query('COMMIT');
    const missingFile = spool.missingFile;
    await step(
      addStream(
        'missing-media.txt',
        async function* () {
          yield Buffer.from(MISSING_MEDIA_HEADER);
          yield* fs.createReadStream(missingFile) as AsyncIterable<Buffer>;
          if (vanishedLines.length) yield Buffer.from(vanishedLines.join(''));
        },
        { compress: true },
      ),
    );
    addBuffer('schema.json', `${JSON.stringify(dataJsonSchema(), null, 2)}\n`);
    await step(addStream('index.html', () => viewerHtml(tmpFile, settings), { compress: true }));
    const signed = signManifest({ exportedAt, subject, files: manifest, signer: settings.signer, toyboxHost: settings.toyboxHost });
    zip.addBuffer(signed.manifest, 'manifest.json');
    zip.addBuffer(signed.signature, 'manifest.sig');
    zip.end();
    await written;
    if (failed) throw failed;
    return { rows: countRows(state.counts), counts: state.counts, files: manifest.length + 2 };
  } catch (err) {
    (zip.outputStream as unknown as Readable).destroy(err as Error);
    throw err;
  } finally {
    if (client) await closeClient(client);
    await fs.promises.rm(tmpFile, { force: true });
    await spoolRef?.remove();
  }
}

/** toybox-export-<display_id>-<date>; the ASCII fallback keeps only safe characters. */
export function exportFileName(displayId: string, format: ExportFormat, at = new Date()): { ascii: string; utf8: string } {
  const date = tokyoDay(at); // the day it is in Japan, where the person is
  const utf8 = `toybox-export-${displayId}-${date}.${format}`;
  const ascii = `toybox-export-${displayId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60)}-${date}.${format}`;
  return { ascii, utf8 };
}

/** RFC 6266: a quoted ASCII filename for old clients and filename* (RFC 8187) for everything else. */
export function contentDisposition(name: { ascii: string; utf8: string }): string {
  const encoded = encodeURIComponent(name.utf8).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${name.ascii}"; filename*=UTF-8''${encoded}`;
}
