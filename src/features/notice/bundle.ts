import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { translator, type Lang } from '../../i18n';
import type { NoticeSnapshot, PublicNotice } from './model';
import { escapeHtml } from '../../http/html';

// public/ beside src/ (tsx, jest) or beside dist/ (the compiled image keeps it at the app root)
const PUBLIC_DIR = [path.resolve(__dirname, '..', '..', '..', 'public'), path.resolve(__dirname, '..', '..', '..', '..', 'public')].find((d) =>
  fs.existsSync(path.join(d, 'js', 'notice-banner.js')),
) ?? path.resolve(__dirname, '..', '..', '..', 'public');

/** The banner's stylesheet: one file shared by the shadow root, /banner.html and the admin preview. */
export const BANNER_CSS = fs.readFileSync(path.join(PUBLIC_DIR, 'css', 'notice-banner.css'), 'utf8').trim();

function bannerLabels(lang: Lang) {
  const t = translator(lang);
  return {
    more: t('notice.banner.more'),
    dismiss: t('notice.banner.dismiss'),
    close: t('notice.banner.close'),
    collapse: t('notice.banner.collapse'),
    collapseLabel: t('notice.banner.collapse_label'),
    expand: t('notice.banner.expand'),
    expandLabel: t('notice.banner.expand_label'),
  };
}

/** banner.js with its stylesheet and texts inlined, comments and indentation dropped; the notices go in at __DATA__. */
const BANNER_JS_TEMPLATE: string = fs
  .readFileSync(path.join(PUBLIC_DIR, 'js', 'notice-banner.js'), 'utf8')
  .replace('__CSS__', () => JSON.stringify(BANNER_CSS))
  .replace('__LABELS__', () => JSON.stringify({ ja: bannerLabels('ja'), en: bannerLabels('en') }))
  .replace(/^\s*\/\*[\s\S]*?\*\/\s*$/gm, '')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('//'))
  .join('\n');

/** banner.js carrying the notices themselves (the /api/notice payload): a page of any origin shows them with no CORS fetch. */
export function bannerJs(payload: unknown): string {
  return BANNER_JS_TEMPLATE.replace('__DATA__', () => JSON.stringify(payload));
}

/** The script with no notice: its size is the code's own budget. */
export const BANNER_JS: string = bannerJs({ version: 0, updatedAt: null, statusUrl: '', notices: [] });

/** The banner as HTML, the same markup banner.js builds (minus the dismiss button, which needs script). */
export function bannerFragment(notices: PublicNotice[], lang: Lang, statusUrl: string, opts: { style?: boolean; dismiss?: boolean } = {}): string {
  if (notices.length === 0) return '';
  const t = translator(lang);
  const items = notices
    .map((n) => {
      const role = n.severity === 'critical' ? 'alert' : 'status';
      const when = n.when[lang] ? `<span class="tbx-when">${escapeHtml(n.when[lang])}</span>` : '';
      return (
        `<div class="tbx-notice tbx-${n.severity}" role="${role}" data-notice="${n.id}:${n.version}">` +
        `<div class="tbx-main"><p class="tbx-title">${escapeHtml(n.title[lang])}${when}</p>` +
        `<div class="tbx-body">${n.message[lang]}</div>` +
        `<p class="tbx-more"><a href="${escapeHtml(statusUrl)}?lang=${lang}">${escapeHtml(t('notice.banner.more'))}</a></p></div>` +
        // the admin preview shows the button banner.js adds (inert here)
        (opts.dismiss ? `<button class="tbx-dismiss" type="button" disabled>${escapeHtml(t('notice.banner.close'))}</button>` : '') +
        '</div>'
      );
    })
    .join('');
  const style = opts.style ? `<style>${BANNER_CSS.replace(/:host[^}]*}/, '')}</style>` : '';
  return `${style}<div class="tbx-notices" lang="${lang}">${items}</div>\n`;
}

/** The JSON /api/notice answers: active notices in both languages, without timelines. */
export function apiPayload(snapshot: NoticeSnapshot, statusUrl: string) {
  return {
    // no generation time here: the same version must give the same bytes (and ETag) on every instance
    version: snapshot.version,
    updatedAt: snapshot.active.reduce<string | null>((max, n) => (max === null || n.updatedAt > max ? n.updatedAt : max), null),
    statusUrl,
    notices: snapshot.active.map((n) => ({
      id: n.id,
      kind: n.kind,
      severity: n.severity,
      state: n.state,
      version: n.version,
      title: n.title,
      message: n.message,
      when: n.when,
      startsAt: n.startsAt,
      endsAt: n.endsAt,
      updatedAt: n.updatedAt,
    })),
  };
}

export interface Entity {
  body: Buffer;
  /** The same bytes gzipped, computed once; sent when the client accepts gzip and it is smaller. */
  gzip: Buffer | null;
  etag: string;
  contentType: string;
}

function entity(body: string, contentType: string): Entity {
  const buf = Buffer.from(body, 'utf8');
  const gz = buf.length > 512 ? zlib.gzipSync(buf, { level: 9 }) : null;
  return { body: buf, gzip: gz && gz.length < buf.length ? gz : null, contentType, etag: `"${crypto.createHash('sha256').update(buf).digest('base64url').slice(0, 27)}"` };
}

export interface PublicBundle {
  version: number;
  api: Entity;
  js: Entity;
  html: Record<Lang, Entity>;
}

/** Same-site links (`/status`) in a notice point at the portal: the banner is shown on TOYBOX's pages, another origin. */
export function portalLinks(html: string, publicUrl: string): string {
  return html.replace(/(<a\b[^>]*?\shref=")(\/(?!\/)[^"]*)"/g, (_m, before: string, href: string) => `${before}${publicUrl}${href}"`);
}

export function buildBundle(snapshot: NoticeSnapshot, publicUrl: string): PublicBundle {
  const statusUrl = `${publicUrl}/status`;
  // /api/notice keeps links relative to the portal (banner.js resolves them against its own origin);
  // /banner.html may be pasted into another site's page, so its links carry PUBLIC_URL.
  const absolute = snapshot.active.map((n) => ({ ...n, message: { ja: portalLinks(n.message.ja, publicUrl), en: portalLinks(n.message.en, publicUrl) } }));
  const payload = apiPayload(snapshot, statusUrl);
  return {
    version: snapshot.version,
    api: entity(JSON.stringify(payload), 'application/json; charset=utf-8'),
    js: entity(bannerJs(payload), 'text/javascript; charset=utf-8'),
    html: {
      ja: entity(bannerFragment(absolute, 'ja', statusUrl, { style: true }), 'text/html; charset=utf-8'),
      en: entity(bannerFragment(absolute, 'en', statusUrl, { style: true }), 'text/html; charset=utf-8'),
    },
  };
}
