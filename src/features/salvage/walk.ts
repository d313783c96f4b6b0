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
      const abs = path.join(dir, e.name);
      if (e.isSymbolicLink()) stats.symlinksSkipped++;
      else if (e.isDirectory()) subdirs.push(abs);
      else if (e.isFile()) files.push(abs);
    }
    // stat a folder's files 64 at a time: the thread pool overlaps them, the order stays the name order
    for (let i = 0; i < files.length; i += 64) {
      const chunk = files.slice(i, i + 64);
      const stated = await Promise.all(chunk.map((abs) => fs.promises.lstat(abs).catch((err: NodeJS.ErrnoException) => err)));
      for (const [j, st] of stated.entries()) {
        const abs = chunk[j]!;
        if (st instanceof Error) {
          stats.unreadable.push(`${abs}: ${(st as NodeJS.ErrnoException).code ?? st.message}`);
          continue;
        }
        yield { abs, rel: path.relative(root, abs).split(path.sep).join('/'), size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
      }
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
}
