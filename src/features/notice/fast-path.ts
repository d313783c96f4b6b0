import type http from 'node:http';
import type { AppContext } from '../../app-context';
import type { FastPath } from '../feature';
import { securityHeaders } from '../../http/security';
import type { Entity, PublicBundle } from './bundle';
import { runtimeFor } from './runtime';
import { noteBannerLoad, noteRefused } from './banner-sightings';

type Headers = Record<string, string>;

/**
 * The portal's security headers exactly as helmet sets them on every other
 * response, captured once by running the same middleware against a recorder.
 * These three resources are embedded by TOYBOX's pages, so they alone are
 * cross-origin readable.
 */
function helmetHeaders(): Headers {
  const headers: Headers = {};
  const recorder = {
    setHeader: (k: string, v: unknown) => void (headers[k.toLowerCase()] = String(v)),
    removeHeader: (k: string) => void delete headers[k.toLowerCase()],
    getHeader: (k: string) => headers[k.toLowerCase()],
    locals: {},
  };
  const fakeReq = { headers: {}, method: 'GET', url: '/', secure: false };
  securityHeaders(fakeReq as never, recorder as never, () => undefined);
  headers['cross-origin-resource-policy'] = 'cross-origin';
  return headers;
}

export const FAST_SECURITY_HEADERS: Readonly<Headers> = Object.freeze(helmetHeaders());

/** Short freshness, then stale-while-revalidate: TOYBOX pages get the banner without waiting, updates arrive within seconds. */
export const CACHE_CONTROL = 'public, max-age=10, stale-while-revalidate=60';
/** banner.js carries the notices: every page view revalidates it (a 304 from memory), so an update shows on the next page. */
export const JS_CACHE_CONTROL = 'public, no-cache';

interface Variant {
  body: Buffer;
  etag: string;
  ok: Headers;
  notModified: Headers;
  /** The same headers plus Access-Control-Allow-Origin, per allowed origin (TOYBOX_URL may list several). */
  cors: Map<string, { ok: Headers; notModified: Headers }>;
}

/** Identity and (when it pays) gzip, each with its own strong ETag, headers computed once per version. */
interface Prepared {
  identity: Variant;
  gzip: Variant | null;
}

function variant(body: Buffer, etag: string, e: Entity, cacheControl: string, corsOrigins: readonly string[], encoding: string | null): Variant {
  const common: Headers = { ...FAST_SECURITY_HEADERS, etag, 'cache-control': cacheControl, vary: e.gzip ? 'Origin, Accept-Encoding' : 'Origin' };
  const ok: Headers = { ...common, 'content-type': e.contentType, 'content-length': String(body.length), ...(encoding ? { 'content-encoding': encoding } : {}) };
  const cors = new Map(corsOrigins.map((o) => [o, { ok: { ...ok, 'access-control-allow-origin': o }, notModified: { ...common, 'access-control-allow-origin': o } }]));
  return { body, etag, ok, notModified: common, cors };
}

function prepare(e: Entity, cacheControl: string, corsOrigins: readonly string[]): Prepared {
  return {
    identity: variant(e.body, e.etag, e, cacheControl, corsOrigins, null),
    gzip: e.gzip ? variant(e.gzip, `${e.etag.slice(0, -1)}-gz"`, e, cacheControl, corsOrigins, 'gzip') : null,
  };
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch === etag) return true;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

/**
 * /api/notice, /banner.js and /banner.html straight from memory, before
 * Express: ETag/304, caching and CORS (the origins TOYBOX_URL lists) with
 * headers computed once per published version. A cross-origin request from
 * any other origin is answered without CORS and counted as refused, so the
 * dashboard can name the page that cannot read the notice.
 */
export function createNoticeFastPath(ctx: AppContext): FastPath {
  const runtime = runtimeFor(ctx);
  const corsOrigins = ctx.config.TOYBOX_ORIGINS;
  const allowList = new Set(corsOrigins);
  let preparedFor: PublicBundle | null = null;
  let prepared: { api: Prepared; js: Prepared; ja: Prepared; en: Prepared } | null = null;

  const current = () => {
    const bundle = runtime.bundle;
    if (bundle !== preparedFor || !prepared) {
      prepared = {
        api: prepare(bundle.api, CACHE_CONTROL, corsOrigins),
        js: prepare(bundle.js, JS_CACHE_CONTROL, corsOrigins),
        ja: prepare(bundle.html.ja, CACHE_CONTROL, corsOrigins),
        en: prepare(bundle.html.en, CACHE_CONTROL, corsOrigins),
      };
      preparedFor = bundle;
    }
    return { bundle, prepared };
  };

  return (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    let which: 'api' | 'js' | 'html';
    if (path === '/api/notice') which = 'api';
    else if (path === '/banner.js') which = 'js';
    else if (path === '/banner.html') which = 'html';
    else return false;
    const method = req.method;
    const origin = req.headers.origin;
    // Requests with no Origin are plain <script src> loads (no CORS involved): never refused.
    const refused = origin !== undefined && origin !== 'null' && !allowList.has(origin);
    if (method === 'OPTIONS') {
      if (refused) noteRefused(ctx.knex, req);
      res.writeHead(204, { ...FAST_SECURITY_HEADERS, vary: 'Origin', ...(origin !== undefined && allowList.has(origin) ? { 'access-control-allow-origin': origin!, 'access-control-allow-methods': 'GET, HEAD', 'access-control-max-age': '600' } : {}) });
      res.end();
      return true;
    }
    if (method !== 'GET' && method !== 'HEAD') return false;
    if (refused) noteRefused(ctx.knex, req);
    else noteBannerLoad(ctx.knex, req);
    const { prepared: p } = current();
    let h: Prepared;
    if (which === 'api') h = p.api;
    else if (which === 'js') h = p.js;
    else h = q >= 0 && /(?:^|&)lang=en(?:&|$)/.test(url.slice(q + 1)) ? p.en : p.ja;
    const v = h.gzip && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '') ? h.gzip : h.identity;
    const allowed = origin === undefined ? undefined : v.cors.get(origin);
    if (matches(req.headers['if-none-match'], v.etag)) {
      res.writeHead(304, allowed ? allowed.notModified : v.notModified);
      res.end();
      return true;
    }
    res.writeHead(200, allowed ? allowed.ok : v.ok);
    res.end(method === 'HEAD' ? undefined : v.body);
    return true;
  };
}
