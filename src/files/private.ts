import fs from 'node:fs';
import { once } from 'node:events';

/** What the portal writes (dumps, exports, mail, tokens) is for its own user only, whatever the umask. */
export const PRIVATE_FILE = 0o600;
export const PRIVATE_DIR = 0o700;
/**
 * DATA_DIR itself may be traversed (not listed) by others, and its `public/`
 * copies of the published notice are world-readable: they are public by
 * definition, and Caddy (Debian's runs as user `caddy`) serves them when the
 * portal is down. Everything else inside is 0700/0600.
 */
export const DATA_DIR_MODE = 0o711;
export const PUBLIC_DIR = 0o755;
export const PUBLIC_FILE = 0o644;

/**
 * mkdir -p, then chmod the directory itself: `mkdir`'s mode is filtered by the
 * umask and ignored for a directory that already exists, so only chmod makes it
 * exact. Parents created on the way get the mode too (through the umask).
 */
export async function ensurePrivateDir(dir: string, mode = PRIVATE_DIR): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true, mode });
  await fs.promises.chmod(dir, mode);
}

export function ensurePrivateDirSync(dir: string, mode = PRIVATE_DIR): void {
  fs.mkdirSync(dir, { recursive: true, mode });
  fs.chmodSync(dir, mode);
}

/** A private file being written as a stream; see createFileSink. */
export interface FileSink {
  readonly path: string;
  readonly stream: fs.WriteStream;
  /** Resolves once every byte is on disk (end() called and flushed); rejects on ENOSPC, EIO... */
  readonly finished: Promise<void>;
  /** Stops writing and removes the file; safe to call more than once, never throws. */
  discard(): Promise<void>;
}

/**
 * Opens a file for streaming (an export archive, a spool) that never takes the
 * process down: an error listener is always attached, so ENOSPC or EIO surface
 * as a rejected `finished` (and a destroyed stream) instead of an uncaught
 * 'error' event. Created with `mode` (0600): the umask can only narrow it.
 */
export function createFileSink(file: string, mode = PRIVATE_FILE): FileSink {
  const stream = fs.createWriteStream(file, { mode, flush: true });
  const finished = new Promise<void>((resolve, reject) => {
    stream.once('finish', () => resolve());
    stream.once('error', reject);
    stream.once('close', () => (stream.writableFinished ? resolve() : reject(new Error(`${file}: closed before it was finished`))));
  });
  finished.catch(() => undefined); // a caller that never waits must not crash the process either
  stream.on('error', () => undefined);
  return {
    path: file,
    stream,
    finished,
    async discard() {
      if (!stream.destroyed) stream.destroy();
      await new Promise<void>((r) => (stream.closed ? r() : stream.once('close', () => r())));
      await fs.promises.rm(file, { force: true }).catch(() => undefined);
    },
  };
}

/** Writes a chunk, waiting for the disk when it is behind; rejects (never hangs) once the file failed. */
export async function writeChunk(sink: FileSink, chunk: Buffer | string): Promise<void> {
  if (sink.stream.errored) throw sink.stream.errored;
  if (sink.stream.write(chunk)) return;
  await Promise.race([once(sink.stream, 'drain'), sink.finished.then(() => Promise.reject(new Error(`${sink.path}: closed while writing`)))]);
}

/** Ends the file and waits until it is on disk; rejects with the write error if there was one. */
export async function closeSink(sink: FileSink): Promise<void> {
  if (!sink.stream.writableEnded) sink.stream.end();
  await sink.finished;
}
