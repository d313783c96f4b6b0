import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PERSONAL_DATA } from '../../toybox/personal-data';
import { catalogKeys, translator, LANGUAGES } from '../../i18n';

const TEMPLATE = path.resolve(__dirname, '..', '..', '..', 'views', 'export', 'offline-viewer.html');
const MARKER = '__TOYBOX_DATA__';
let cached: string | null = null;

/** JSON safe inside a <script> element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

/** CSP source for one inline element's exact text: only that script and that style may run, nothing injected. */
function hashOf(html: string, open: RegExp, close: string): string {
  const m = open.exec(html);
  if (!m) throw new Error(`offline viewer template: no ${open}`);
  const start = m.index + m[0].length;
  const body = html.slice(start, html.indexOf(close, start));
  return `'sha256-${crypto.createHash('sha256').update(body, 'utf8').digest('base64')}'`;
}

/** The viewer's words (locales/<lang>/viewer.json), both languages, for its language switch. */
function viewerText(): Record<string, Record<string, string>> {
  return Object.fromEntries(
    LANGUAGES.map((lang) => {
      const t = translator(lang);
      const keys = catalogKeys(lang).filter((k) => k.startsWith('viewer.'));
      return [lang, Object.fromEntries(keys.map((k) => [k.slice('viewer.'.length), t(k)]))];
    }),
  );
}

function template(): string {
  if (cached) return cached;
  const raw = fs.readFileSync(TEMPLATE, 'utf8');
  const script = hashOf(raw, /<script>/, '</script>');
  const style = hashOf(raw, /<style>/, '</style>');
  const labels = Object.fromEntries(PERSONAL_DATA.map((k) => [k.kind, k.label]));
  cached = raw
    .replace('__CSP_SCRIPT__', script)
    .replace('__CSP_STYLE__', style)
    .replace('__TOYBOX_LABELS__', scriptJson(labels))
    .replace('__TOYBOX_TEXT__', scriptJson(viewerText()));
  return cached;
}

/**
 * index.html around the embedded data.json: one self-contained file (inline
 * script and style allowed by hash, no network) so it opens from disk years from now.
 */
export function viewerParts(lang: 'ja' | 'en'): { head: string; tail: string } {
  const html = template().replace('__LANG__', lang);
  const at = html.indexOf(MARKER);
  return { head: html.slice(0, at), tail: html.slice(at + MARKER.length) };
}
