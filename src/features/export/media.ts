import fs from 'node:fs';
import path from 'node:path';

export type MediaStatus = 'included' | 'missing' | 'refused' | 'external';

export interface MediaEntry {
  /** The value exactly as the database holds it. */
  source: string;
  /** Where the file is in the archive (media/...), or null when it is not there. */
  path: string | null;
  status: MediaStatus;
  /** Absolute path on disk, for included files only (never written to the archive). */
  file?: string;
  size?: number;
  /** SHA-256 (hex) of an included file, as data.json and manifest.json name it. */
  sha256?: string;
}

/** The site serves uploads at /uploads/ and games at /media/; both live in TOYBOX_MEDIA_DIR. */
const SITE_PREFIXES = ['/uploads/', '/media/'];

/**
 * The path inside the media directory that a database value names, or a
 * reason it names none. Relative FileField paths ("submissions/x.jpg") and
 * the site's own URLs ("https://host/uploads/submissions/x.jpg") qualify;
 * "..", absolute paths, backslashes and other sites' URLs never do.
 */
export function mediaKey(value: string): { key: string } | { status: 'refused' | 'external' } {
  let p = value.trim();
  if (/^[a-z][a-z0-9+.-]*:/i.test(p)) {
    let url: URL;
    try {
      url = new URL(p);
    } catch {
      return { status: 'refused' };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { status: 'refused' };
    if (!SITE_PREFIXES.some((prefix) => url.pathname.startsWith(prefix))) return { status: 'external' };
    try {
      p = decodeURIComponent(url.pathname);
    } catch {
      return { status: 'refused' };
    }
  } else {
    p = p.split(/[?#]/)[0]!;
  }
  const prefix = SITE_PREFIXES.find((s) => p.startsWith(s));
  if (prefix) p = p.slice(prefix.length);
  else if (p.startsWith('/')) return { status: 'refused' };
  if (p.includes('\\') || p.includes('\0') || p === '') return { status: 'refused' };
  const segments = p.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return { status: 'refused' };
  return { key: segments.join('/') };
}

/**
 * Resolves database values to files strictly inside the media directory.
 * Directories go through realpath (cached: a few directories hold most
 * files), files through lstat, and a symlinked file through realpath again,
 * so nothing that resolves outside the directory is ever opened.
 */
export class MediaResolver {
  private root: string | null = null;
  private readonly dirs = new Map<string, string | null>();

  constructor(private readonly mediaDir: string | undefined) {}

  async init(): Promise<this> {
    this.root = this.mediaDir ? await fs.promises.realpath(this.mediaDir).catch(() => null) : null;
    return this;
  }

  private inside(real: string): boolean {
    return real.startsWith(this.root! + path.sep);
  }

  private async realDir(dir: string): Promise<string | null> {
    if (this.dirs.has(dir)) return this.dirs.get(dir)!;
    const real = await fs.promises.realpath(path.join(this.root!, dir)).catch(() => null);
    if (this.dirs.size > 10_000) this.dirs.clear();
    this.dirs.set(dir, real);
    return real;
  }

  async resolve(source: string): Promise<MediaEntry> {
    const k = mediaKey(source);
    if (!('key' in k)) return { source, path: null, status: k.status };
    const archivePath = `media/${k.key}`;
    if (!this.root) return { source, path: archivePath, status: 'missing' };
    const dir = await this.realDir(path.posix.dirname(k.key));
    if (dir === null) return { source, path: archivePath, status: 'missing' };
    if (dir !== this.root && !this.inside(dir)) return { source, path: null, status: 'refused' };
    let file = path.join(dir, path.posix.basename(k.key));
    let stat = await fs.promises.lstat(file).catch(() => null);
    if (stat?.isSymbolicLink()) {
      const real = await fs.promises.realpath(file).catch(() => null);
      if (real === null) return { source, path: archivePath, status: 'missing' };
      if (!this.inside(real)) return { source, path: null, status: 'refused' };
      file = real;
      stat = await fs.promises.stat(real).catch(() => null);
    }
    if (!stat?.isFile()) return { source, path: archivePath, status: 'missing' };
    return { source, path: archivePath, status: 'included', file, size: stat.size };
  }
}

/** Resolves a list at once (small lists; the export streams through MediaResolver). */
export async function resolveMedia(mediaDir: string | undefined, values: string[]): Promise<MediaEntry[]> {
  const resolver = await new MediaResolver(mediaDir).init();
  const out: MediaEntry[] = [];
  for (const v of values) out.push(await resolver.resolve(v));
  return out;
}

/** One line of missing-media.txt, or null for a file that is in the archive. */
export function missingMediaLine(e: MediaEntry): string | null {
  return e.status === 'included' ? null : `${e.status}\t${e.source.replace(/[\r\n\t]/g, ' ')}\n`;
}

export const MISSING_MEDIA_HEADER = [
  '# Files referenced by your data that are not in this archive / このアーカイブに含まれていないファイル',
  '# missing = not found in the media store (見つかりませんでした); refused = points outside the media store (保存場所の外を指すため除外);',
  '# external = a URL on another site, not stored by TOYBOX (他サイトの URL)',
  '',
].join('\n');
