import fs from 'node:fs';
import path from 'node:path';
import { PERSONAL_DATA } from '../../toybox/personal-data';

const TEMPLATE = path.resolve(__dirname, '..', '..', '..', 'views', 'export', 'offline-viewer.html');
const MARKER = '__TOYBOX_DATA__';
let cached: string | null = null;

/**
 * index.html around the embedded data.json: one self-contained file (inline
 * script and style, no network) so it opens from disk years from now.
 */
export function viewerParts(lang: 'ja' | 'en'): { head: string; tail: string } {
  cached ??= fs.readFileSync(TEMPLATE, 'utf8');
  const labels = Object.fromEntries(PERSONAL_DATA.map((k) => [k.kind, k.label]));
  const html = cached.replace('__LANG__', lang).replace('__TOYBOX_LABELS__', JSON.stringify(labels).replace(/</g, '\\u003c'));
  const at = html.indexOf(MARKER);
  return { head: html.slice(0, at), tail: html.slice(at + MARKER.length) };
}
