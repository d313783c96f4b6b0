import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { AppContext } from '../../app-context';
import { Conflict, HttpError } from '../../http/errors';
import { logger } from '../../logger';
import type * as catalogue from '../../salvage-catalogue';

export interface CopiedFile {
  rel: string;
  abs: string;
  sha256: string;
}

export function mediaDir(ctx: AppContext): string {
  const dir = ctx.config.TOYBOX_MEDIA_DIR;
  if (!dir) throw Conflict('claims.restore.no_media_dir');
  return path.resolve(dir);
}

export function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    fs.createReadStream(file).on('error', reject).on('data', (c) => h.update(c)).on('end', () => resolve(h.digest('hex')));
  });
}

/**
 * Copies one salvaged file into TOYBOX's live uploads directory under a name
 * TOYBOX's own code would give it for this person, never overwriting: a name
 * already taken by other bytes moves to the next free second / suffix.
 */
export async function copyIn(root: string, src: Pick<catalogue.CatalogueFile, 'abs_path' | 'sha256'>, relName: (bump: number) => string, copied: CopiedFile[], dirs: Set<string>): Promise<{ rel: string; added: boolean }> {
  for (let bump = 0; bump < 50; bump++) {
    const rel = relName(bump);
    const abs = path.resolve(root, rel);
    if (!abs.startsWith(root + path.sep)) throw new HttpError(400, 'claims.restore.bad_path');
    if (!dirs.has(path.dirname(abs))) {
      await fs.promises.mkdir(path.dirname(abs), { recursive: true });
      dirs.add(path.dirname(abs));
    }
    // Copied under a hidden temporary name, then published with link(), which fails if the name exists:
    // a name in TOYBOX's tree only ever holds a complete copy, even if this process is killed mid-copy.
    const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.restoring-${randomHex()}`);
    await fs.promises.copyFile(src.abs_path, tmp, fs.constants.COPYFILE_EXCL);
    try {
      await fs.promises.link(tmp, abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // The same bytes under the name this restore would give them: a copy a killed restore left behind
      // (post names carry the old upload second, which only restores write). Adopt it, so that it is
      // recorded now and undo removes it.
      if ((await sha256Of(abs)) === src.sha256) {
        copied.push({ rel, abs, sha256: src.sha256 });
        return { rel, added: true };
      }
      continue;
    } finally {
      await fs.promises.unlink(tmp).catch(() => undefined);
    }
    copied.push({ rel, abs, sha256: src.sha256 });
    return { rel, added: true };
  }
  throw Conflict('claims.restore.no_free_name');
}

export async function removeCopied(files: Array<{ abs: string }>): Promise<void> {
  for (const f of files) {
    await fs.promises.unlink(f.abs).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') logger.warn({ err: err.message, file: f.abs }, 'claims: could not remove a copied file');
    });
  }
}

/** True when `url` is one of TOYBOX's uploads whose file holds exactly these bytes. */
export async function holdsSameFile(ctx: AppContext, root: string, url: string | null, sha256: string): Promise<boolean> {
  const prefix = mediaUrl(ctx, '');
  if (!url || !url.startsWith(prefix)) return false;
  const abs = path.resolve(root, url.slice(prefix.length));
  if (!abs.startsWith(root + path.sep)) return false;
  return (await sha256Of(abs).catch(() => null)) === sha256;
}

export const mediaUrl = (ctx: AppContext, rel: string) => `${ctx.config.TOYBOX_URL.replace(/\/$/, '')}/uploads/${rel}`;
export const randomHex = () => crypto.randomBytes(4).toString('hex');

/**
 * Copies a game's folder to a fresh folder of TOYBOX's games tree (the first
 * `target(bump)` that does not exist yet, claimed by creating it), keeping the
 * files' relative layout. Returns the new folder, relative to the uploads root.
 */
export async function copyFolder(root: string, files: catalogue.CatalogueFile[], srcFolder: string, target: (bump: number) => string, copied: CopiedFile[]): Promise<string> {
  for (let bump = 0; bump < 50; bump++) {
    const rel = target(bump);
    const abs = path.resolve(root, rel);
    if (!abs.startsWith(root + path.sep)) throw new HttpError(400, 'claims.restore.bad_path');
    await fs.promises.mkdir(path.dirname(abs), { recursive: true });
    try {
      await fs.promises.mkdir(abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    for (const f of files) {
      const sub = f.rel_path.slice(srcFolder.length + 1);
      const dest = path.resolve(abs, sub);
      if (!f.rel_path.startsWith(`${srcFolder}/`) || !dest.startsWith(abs + path.sep)) throw new HttpError(400, 'claims.restore.bad_path');
      await fs.promises.mkdir(path.dirname(dest), { recursive: true });
      await fs.promises.copyFile(f.abs_path, dest, fs.constants.COPYFILE_EXCL);
      copied.push({ rel: `${rel}/${sub}`, abs: dest, sha256: f.sha256 });
    }
    return rel;
  }
  throw Conflict('claims.restore.no_free_name');
}

/** After removing copied files: the folders they leave empty under games/ go too (best effort). */
export async function pruneEmptyGameDirs(root: string, removed: string[]): Promise<void> {
  const games = path.join(root, 'games');
  const dirs = [...new Set(removed.map((f) => path.dirname(f)).filter((d) => d.startsWith(games + path.sep)))].sort((a, b) => b.length - a.length);
  for (let d of dirs) {
    while (d.startsWith(games + path.sep)) {
      try {
        await fs.promises.rmdir(d);
      } catch {
        break; // not empty, or gone
      }
      d = path.dirname(d);
    }
  }
}

/** Temporary copies a killed restore of this account left (hidden `.<name>.restoring-<hex>` files): removed before a new restore. */
export async function sweepTemporaryCopies(root: string, userId: number): Promise<void> {
  const pattern = new RegExp(`^\\.(?:(?:avatar|header)_)?${userId}_.*\\.restoring-[0-9a-f]{8}$`);
  for (const dir of ['submissions', 'profiles']) {
    const names = await fs.promises.readdir(path.join(root, dir)).catch(() => [] as string[]);
    for (const n of names.filter((x) => pattern.test(x))) await fs.promises.unlink(path.join(root, dir, n)).catch(() => undefined);
  }
}
