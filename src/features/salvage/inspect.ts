import fs from 'node:fs';
import crypto from 'node:crypto';
import sharp from 'sharp';
import { keptMetadata, type KeptMetadata } from './metadata';
import { perceptualHash } from './phash';

export interface InspectTask {
  file: string;
  image: boolean;
}

export interface Inspection {
  sha256: string;
  size: number;
  phash: string | null;
  width: number | null;
  height: number | null;
  format: string | null;
  metadata: KeptMetadata | null;
  /** Set when a file named like an image does not decode as one. */
  warning: string | null;
}

// Most uploads are read in one call (a stream would allocate its full buffer even for a 15 KB file);
// images up to the larger limit are read once for both the hash and the decoder; big videos stream.
const READ_WHOLE_LIMIT = 8 * 1024 * 1024;
const READ_IMAGE_LIMIT = 64 * 1024 * 1024;

async function hashStream(file: string): Promise<{ sha256: string; size: number }> {
  const hash = crypto.createHash('sha256');
  let size = 0;
  const stream = fs.createReadStream(file, { highWaterMark: 1024 * 1024 });
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Hashes one file and, for an image, decodes it for its perceptual hash and kept metadata. Never writes. */
export async function inspectFile(task: InspectTask): Promise<Inspection> {
  const stat = await fs.promises.stat(task.file);
  const base: Inspection = { sha256: '', size: stat.size, phash: null, width: null, height: null, format: null, metadata: null, warning: null };
  if (stat.size > (task.image ? READ_IMAGE_LIMIT : READ_WHOLE_LIMIT)) return { ...base, ...(await hashStream(task.file)) };
  const buf = await fs.promises.readFile(task.file);
  const out: Inspection = { ...base, sha256: crypto.createHash('sha256').update(buf).digest('hex'), size: buf.length };
  if (!task.image) return out;
  try {
    const meta = await sharp(buf).metadata();
    out.width = meta.width ?? null;
    out.height = meta.height ?? null;
    out.format = meta.format ?? null;
    out.phash = await perceptualHash(buf);
    out.metadata = await keptMetadata(buf);
  } catch (err) {
    out.warning = `not a readable image: ${(err as Error).message.split('\n')[0]}`;
  }
  return out;
}

export default inspectFile;
