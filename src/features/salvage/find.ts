import fs from 'node:fs';
import path from 'node:path';
import { classifyPath, TOP_LEVEL_DIRS } from './naming';
import { sniffFile } from './sniff';
import { SKIPPED_ROOTS } from './walk';

export type CandidateType = 'pg_data_dir' | 'custom_dump' | 'plain_dump' | 'uploads_tree' | 'docker_json_log' | 'uploads_tarball';

export interface Candidate {
  path: string;
  type: CandidateType;
  size: number;
  mtime: string;
  ctime: string;
  why: string;
  /** The next command to run on it. */
  next: string;
}

export interface FindResult {
  candidates: Candidate[];
  symlinksNotFollowed: number;
  unreadable: string[];
}

const NEXT: Record<CandidateType, string> = {
  pg_data_dir: 'salvage add-database',
  custom_dump: 'salvage add-database',
  plain_dump: 'salvage add-database',
  uploads_tree: 'salvage add-media',
  docker_json_log: 'salvage add-logs',
  uploads_tarball: 'extract into a new folder, then salvage add-media',
};

async function dirSize(dir: string, limit = 200_000): Promise<number> {
  let total = 0;
  let seen = 0;
  const stack = [dir];
  while (stack.length && seen < limit) {
    const d = stack.pop()!;
    const entries = await fs.promises.readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      seen++;
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) total += (await fs.promises.lstat(p).catch(() => ({ size: 0 }))).size;
    }
  }
  return total;
}

/** A PostgreSQL data directory: PG_VERSION beside global/ and base/. */
async function pgDataDirWhy(dir: string, names: Set<string>): Promise<string | null> {
  if (!names.has('PG_VERSION') || !names.has('global') || !names.has('base')) return null;
  const version = (await fs.promises.readFile(path.join(dir, 'PG_VERSION'), 'utf8').catch(() => '?')).trim();
  return `PG_VERSION ${version} with global/ and base/ (PostgreSQL ${version} data directory)`;
}

/** A TOYBOX uploads tree: upload folders holding names that follow TOYBOX's rules (sampled). */
async function uploadsTreeWhy(dir: string, names: Set<string>): Promise<string | null> {
  const tops = TOP_LEVEL_DIRS.filter((t) => names.has(t) && t !== 'cards' && t !== 'titles');
  if (!tops.length) return null;
  let matched = 0;
  let sampled = 0;
  for (const top of tops) {
    const entries = await fs.promises.readdir(path.join(dir, top), { withFileTypes: true }).catch(() => []);
    for (const e of entries.slice(0, 200)) {
      sampled++;
      const rel = top === 'games' && e.isDirectory() ? `games/${e.name}/0000000000/x` : `${top}/${e.name}`;
      if (top === 'games' ? e.isDirectory() && (await fs.promises.readdir(path.join(dir, top, e.name)).catch(() => [])).some((ts) => /^\d{10}$/.test(ts)) : classifyPath(rel).kind !== 'other') matched++;
    }
  }
  if (!matched) return null;
  return `${tops.join('/, ')}/ with ${matched} of ${sampled} sampled names in TOYBOX's upload naming`;
}

/**
 * Walks the roots read-only and lists what may hold TOYBOX's lost data. Never
 * follows a symbolic link (so it cannot leave a root) and skips /proc, /sys,
 * /dev and /run. A data directory or uploads tree is listed once, not entered.
 */
export async function findCandidates(roots: string[], onDir?: (dir: string) => void): Promise<FindResult> {
  const result: FindResult = { candidates: [], symlinksNotFollowed: 0, unreadable: [] };
  const add = async (p: string, type: CandidateType, why: string, st: fs.Stats, size?: number) => {
    result.candidates.push({ path: p, type, size: size ?? st.size, mtime: st.mtime.toISOString(), ctime: st.ctime.toISOString(), why, next: NEXT[type] });
  };
  const stack = roots.map((r) => path.resolve(r)).reverse();
  while (stack.length) {
    const dir = stack.pop()!;
    if (SKIPPED_ROOTS.some((s) => dir === s || dir.startsWith(`${s}/`))) continue;
    onDir?.(dir);
    let entries: fs.Dirent[];
    try {
      const st = await fs.promises.lstat(dir);
      if (st.isFile()) {
        const s = await sniffFile(dir).catch(() => null);
        if (s) await add(dir, s.type, s.why, st);
        continue;
      }
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch (err) {
      result.unreadable.push(`${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      continue;
    }
    const names = new Set(entries.map((e) => e.name));
    const st = await fs.promises.lstat(dir);
    const pg = await pgDataDirWhy(dir, names);
    if (pg) {
      await add(dir, 'pg_data_dir', pg, st, await dirSize(dir));
      continue;
    }
    const uploads = await uploadsTreeWhy(dir, names);
    if (uploads) {
      await add(dir, 'uploads_tree', uploads, st, await dirSize(dir));
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: string[] = [];
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isSymbolicLink()) result.symlinksNotFollowed++;
      else if (e.isDirectory()) subdirs.push(p);
      else if (e.isFile()) {
        try {
          const fst = await fs.promises.lstat(p);
          if (fst.size < 16) continue;
          const s = await sniffFile(p);
          if (s) await add(p, s.type, s.why, fst);
        } catch (err) {
          result.unreadable.push(`${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      }
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
  return result;
}
