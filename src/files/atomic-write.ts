import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { PRIVATE_DIR, PRIVATE_FILE } from './private';

/**
 * Writes to a temporary file in the same directory, fsyncs, renames: a reader
 * (or a crash) sees the old file or the new one, never half of either. The
 * file is created with `mode` (0600 unless said otherwise) and chmod-ed to it,
 * so the umask neither widens nor narrows it, and it is never readable by
 * others, not even for a moment. A failed write (ENOSPC, EIO, read-only)
 * removes the temporary file and rejects; the old file stays as it was.
 */
export async function writeFileAtomic(file: string, data: string | Buffer, opts: { mode?: number; dirMode?: number } = {}): Promise<void> {
  const mode = opts.mode ?? PRIVATE_FILE;
  // A missing folder is created private; an existing one keeps its mode (its owner chose it: see ensurePrivateDir).
  await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: opts.dirMode ?? PRIVATE_DIR });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  const handle = await fs.promises.open(tmp, 'wx', mode);
  try {
    try {
      await handle.chmod(mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.unlink(tmp).catch(() => undefined);
    throw err;
  }
  // the rename itself is durable once the directory entry is flushed
  const dir = await fs.promises.open(path.dirname(file), 'r').catch(() => null);
  if (dir) await dir.sync().catch(() => undefined).finally(() => dir.close());
}
