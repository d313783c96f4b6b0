import fs from 'node:fs';
import path from 'node:path';

const TEMPLATE = path.resolve(__dirname, '..', '..', '..', 'views', 'export', 'offline-viewer.html');
const MARKER = '__TOYBOX_DATA__';
let cached: string | null = null;

/**
 * index.html around the embedded data.json: one self-contained file (inline
 * script and style, no network) so it opens from disk years from now.
 */
export function viewerParts(lang: 'ja' | 'en'): { head: string; tail: string } {
  cached ??= fs.readFileSync(TEMPLATE, 'utf8');
  const html = cached.replace('__LANG__', lang);
  const at = html.indexOf(MARKER);
  return { head: html.slice(0, at), tail: html.slice(at + MARKER.length) };
}
