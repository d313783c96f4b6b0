import fs from 'node:fs';
import crypto from 'node:crypto';
import sharp from 'sharp';
import { keptMetadata, type KeptMetadata } from './metadata';
import { perceptualHash } from './phash';
import { openReadOnly, type ImageTask } from './inspect';

// Loaded only by the catalogue (a CLI run): one image at a time per thread and no decoded-image
// cache, so memory stays flat however many images pass (both settings are process-wide).
sharp.cache(false);
sharp.concurrency(1);

export interface ImageFacts {
  phash: string | null;
  width: number | null;
  height: number | null;
  format: string | null;
  metadata: KeptMetadata | null;
  /** Set when a file named like an image does not decode as one. */
  warning: string | null;
}

/** Decoded, or why not: `changed` when the file no longer holds the catalogued bytes, `error` when it cannot be read. */
export type ImageResult = ({ ok: true } & ImageFacts) | { ok: false; changed: boolean; error: string };

function readWhole(file: string): Buffer {
  const fd = openReadOnly(file);
  try {
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Decodes one catalogued image: size and format (header), sharp-phash's perceptual hash, and the
 * kept metadata. exifr runs only on PNGs (text chunks) and on files whose header shows EXIF.
 * The bytes are hashed again first, so a file changed since the hashing pass never lends its pixels to the old blob.
 */
export async function analyseImage(task: ImageTask): Promise<ImageResult> {
  let buf: Buffer;
  try {
    buf = readWhole(task.file);
  } catch (err) {
    return { ok: false, changed: false, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message.split('\n')[0]! };
  }
  if (crypto.createHash('sha256').update(buf).digest('hex') !== task.sha256) return { ok: false, changed: true, error: 'changed since it was hashed' };
  const out: ImageFacts = { phash: null, width: null, height: null, format: null, metadata: null, warning: null };
  try {
    const meta = await sharp(buf).metadata();
    out.width = meta.width ?? null;
    out.height = meta.height ?? null;
    out.format = meta.format ?? null;
    out.phash = await perceptualHash(buf);
    // PNG text chunks may follow the pixels, where libvips does not look: PNGs always go to exifr.
    out.metadata = meta.exif || meta.format === 'png' ? await keptMetadata(buf) : null;
  } catch (err) {
    return { ok: true, phash: null, width: null, height: null, format: null, metadata: null, warning: `not a readable image: ${(err as Error).message.split('\n')[0]}` };
  }
  return { ok: true, ...out };
}
