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
 * Resolves database values to files strictly inside the media directory:
 * realpath follows symlinks, so one pointing out of the directory is refused.
 */
export async function resolveMedia(mediaDir: string | undefined, values: string[]): Promise<MediaEntry[]> {
  const root = mediaDir ? await fs.promises.realpath(mediaDir).catch(() => null) : null;
  const out: MediaEntry[] = [];
  for (const source of values) {
    const k = mediaKey(source);
    if (!('key' in k)) {
      out.push({ source, path: null, status: k.status });
      continue;
    }
    const archivePath = `media/${k.key}`;
    if (!root) {
      out.push({ source, path: archivePath, status: 'missing' });
      continue;
    }
    let real: string;
    try {
      real = await fs.promises.realpath(path.join(root, k.key));
    } catch {
      out.push({ source, path: archivePath, status: 'missing' });
      continue;
    }
    if (!real.startsWith(root + path.sep)) {
      out.push({ source, path: null, status: 'refused' });
      continue;
    }
    const stat = await fs.promises.stat(real).catch(() => null);
    if (!stat?.isFile()) out.push({ source, path: archivePath, status: 'missing' });
    else out.push({ source, path: archivePath, status: 'included', file: real, size: stat.size });
  }
  return out;
}

/** missing-media.txt: one line per file the rows name but the archive does not hold, with the reason. */
export function missingMediaText(entries: MediaEntry[]): string {
  const lines = entries
    .filter((e) => e.status !== 'included')
    .map((e) => `${e.status}\t${e.source.replace(/[\r\n\t]/g, ' ')}`);
  const head = [
    '# Files referenced by your data that are not in this archive / このアーカイブに含まれていないファイル',
    '# missing = not found in the media store (見つかりませんでした); refused = points outside the media store (保存場所の外を指すため除外);',
    '# external = a URL on another site, not stored by TOYBOX (他サイトの URL)',
  ];
  return `${[...head, ...lines].join('\n')}\n`;
}
