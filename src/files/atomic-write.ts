import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

/**
 * Writes to a temporary file in the same directory, fsyncs, renames: a reader
 * (or a crash) sees the old file or the new one, never half of either. With
 * `mode` 0600 the content is never readable by others, not even for a moment.
 */
export async function writeFileAtomic(file: string, data: string | Buffer, opts: { mode?: number } = {}): Promise<void> {
  const mode = opts.mode ?? 0o644;
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  const handle = await fs.promises.open(tmp, 'wx', mode);
  try {
    await handle.chmod(mode); // the umask may have narrowed or widened nothing, but be explicit
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.unlink(tmp).catch(() => undefined);
    throw err;
  }
  // the rename itself is durable once the directory entry is flushed
  const dir = await fs.promises.open(path.dirname(file), 'r').catch(() => null);
  if (dir) await dir.sync().catch(() => undefined).finally(() => dir.close());
}
