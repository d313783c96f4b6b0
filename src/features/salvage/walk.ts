import fs from 'node:fs';
import path from 'node:path';

/** Pseudo file systems and device trees: never part of a salvage, and reading them can hang. */
export const SKIPPED_ROOTS = ['/proc', '/sys', '/dev', '/run'];

export interface WalkedFile {
  abs: string;
  /** Relative to the walk's root, always with '/'. */
  rel: string;
  size: number;
  mtimeMs: number;
}

export interface WalkStats {
  symlinksSkipped: number;
  unreadable: string[];
}

/**
 * Every regular file under `root`, depth first, in name order. Symbolic links are
 * never followed (so the walk cannot leave the tree), and unreadable folders are
 * noted rather than fatal: a salvage reads what it can.
 */
export async function* walkFiles(root: string, stats: WalkStats = { symlinksSkipped: 0, unreadable: [] }): AsyncGenerator<WalkedFile> {
  const stack: string[] = [root];
  const prefix = root.endsWith(path.sep) ? root.length : root.length + 1;
  while (stack.length) {
    const dir = stack.pop()!;
    if (SKIPPED_ROOTS.some((s) => dir === s || dir.startsWith(`${s}/`))) continue;
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch (err) {
      stats.unreadable.push(`${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: string[] = [];
    const files: string[] = [];
    for (const e of entries) {
      if (e.isSymbolicLink()) stats.symlinksSkipped++;
      else if (e.isDirectory()) subdirs.push(path.join(dir, e.name));
      else if (e.isFile()) files.push(e.name); // a folder may hold 100,000 names: only the names wait
    }
    entries.length = 0;
    // One lstat per file, synchronously (a promise per file cost more than the call itself);
    // the generator hands files out in name order between stats, so commits keep flowing.
    for (const name of files) {
      const abs = path.join(dir, name);
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(abs);
      } catch (err) {
        stats.unreadable.push(`${abs}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        continue;
      }
      if (!st.isFile()) continue; // replaced by something else since the listing
      yield { abs, rel: abs.slice(prefix).split(path.sep).join('/'), size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
}

/** How many regular files `walkFiles` will find (for a progress bar): names and types only, no stat per file. */
export async function countFiles(root: string): Promise<number> {
  let n = 0;
  const stack: string[] = [root];
  while (stack.length) {
    const dir = stack.pop()!;
    if (SKIPPED_ROOTS.some((s) => dir === s || dir.startsWith(`${s}/`))) continue;
    const entries = await fs.promises.readdir(dir, { withFileTypes: true }).catch(() => [] as fs.Dirent[]);
    for (const e of entries) {
      if (e.isDirectory()) stack.push(path.join(dir, e.name));
      else if (e.isFile()) n++;
    }
  }
  return n;
}
