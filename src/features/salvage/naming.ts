import path from 'node:path';

/**
 * What TOYBOX's upload code put into a stored file's name (RECOVERY.md §1).
 * Paths are relative to the uploads root and use '/'.
 */
export type FileKind =
  | 'post_image'
  | 'post_video'
  | 'thumbnail'
  | 'poster'
  | 'game_file'
  | 'game_thumbnail'
  | 'avatar'
  | 'avatar_thumbnail'
  | 'header'
  | 'header_thumbnail'
  | 'article_file'
  | 'master'
  | 'other';

export interface NamedFile {
  kind: FileKind;
  oldUserId: number | null;
  displayId: string | null;
  /** The upload second TOYBOX wrote into the name. */
  uploadedAt: Date | null;
  /** For derived files (thumbnails, posters): the original's stem path, without extension. */
  originalStem: string | null;
  /** For originals (posts, avatars, headers): their own stem, what derived files point at. */
  stem: string | null;
  gameFolder: string | null;
}

export const TOP_LEVEL_DIRS = ['submissions', 'games', 'profiles', 'articles', 'cards', 'titles'] as const;

const VIDEO_EXT = new Set(['.mp4', '.mov', '.webm', '.m4v', '.avi', '.mkv', '.mpeg', '.mpg', '.3gp']);
export const IMAGE_EXT = new Set(['.jpg', '.jpeg', '.png', '.gif', '.webp', '.bmp', '.tif', '.tiff', '.heic', '.heif', '.avif']);

// A plausible unix second for TOYBOX's lifetime (2001..2286): 10 digits.
const TS = '(\\d{10})';
const POST = new RegExp(`^(\\d+)_${TS}(_thumb\\.jpg|_poster\\.jpg|\\.[A-Za-z0-9]+)$`);
const PROFILE = /^(avatar|header)_(\d+)_([0-9a-f]{8})(_thumb\.jpg|\.(?:jpg|jpeg|png|gif))$/i;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\.[A-Za-z0-9]+$/i;

const none = (kind: FileKind): NamedFile => ({ kind, oldUserId: null, displayId: null, uploadedAt: null, originalStem: null, stem: null, gameFolder: null });
const fromSeconds = (s: string) => new Date(Number(s) * 1000);

/** Drops leading folders until the path starts at one of TOYBOX's upload folders (a tree may be given from `public/`). */
export function uploadsRelative(rel: string): string | null {
  const parts = rel.split('/');
  const i = parts.findIndex((p) => (TOP_LEVEL_DIRS as readonly string[]).includes(p));
  return i < 0 ? null : parts.slice(i).join('/');
}

/** Reads one stored name by TOYBOX's rules; anything else is `other`. */
export function classifyPath(relPath: string): NamedFile {
  const rel = uploadsRelative(relPath);
  if (!rel) return none('other');
  const parts = rel.split('/');
  const [top] = parts;
  const base = parts[parts.length - 1]!;
  if (top === 'submissions') {
    if (parts.length >= 3 && parts[1] === 'thumbnails') return none('game_thumbnail');
    if (parts.length !== 2) return none('other');
    const m = POST.exec(base);
    if (!m) return none('other');
    const [, uid, ts, tail] = m;
    const stem = `submissions/${uid}_${ts}`;
    const common = { oldUserId: Number(uid), displayId: null, uploadedAt: fromSeconds(ts!), gameFolder: null };
    if (tail === '_thumb.jpg') return { kind: 'thumbnail', ...common, originalStem: stem, stem: null };
    if (tail === '_poster.jpg') return { kind: 'poster', ...common, originalStem: stem, stem: null };
    const ext = tail!.toLowerCase();
    return { kind: VIDEO_EXT.has(ext) ? 'post_video' : 'post_image', ...common, originalStem: null, stem };
  }
  if (top === 'games') {
    if (parts.length < 4 || !/^\d{10}$/.test(parts[2]!)) return none('other');
    return { kind: 'game_file', oldUserId: null, displayId: parts[1]!, uploadedAt: fromSeconds(parts[2]!), originalStem: null, stem: null, gameFolder: parts.slice(0, 3).join('/') };
  }
  if (top === 'profiles' && parts.length === 2) {
    const m = PROFILE.exec(base);
    if (!m) return none('other');
    const [, which, uid, hex, tail] = m;
    const thumb = tail!.toLowerCase() === '_thumb.jpg';
    const kind = `${which!.toLowerCase()}${thumb ? '_thumbnail' : ''}` as FileKind;
    const own = `profiles/${which}_${uid}_${hex}`;
    return { kind, oldUserId: Number(uid), displayId: null, uploadedAt: null, originalStem: thumb ? own : null, stem: thumb ? null : own, gameFolder: null };
  }
  if (top === 'articles' && parts.length === 3 && ['thumbnails', 'media'].includes(parts[1]!) && UUID.test(base)) return none('article_file');
  if ((top === 'cards' || top === 'titles') && parts.length === 2 && path.extname(base)) return none('master');
  return none('other');
}

/** True for names whose content should decode as an image (perceptual hash, metadata). */
export function looksLikeImage(relPath: string): boolean {
  return IMAGE_EXT.has(path.extname(relPath).toLowerCase());
}
