import type http from 'node:http';
import type { Knex } from 'knex';
import { readSightings, recordSighting, type Sighting } from '../../sightings';

export const BANNER_ORIGIN = 'banner_origin';
/** Cross-origin requests (fetch of /api/notice, a crossorigin script) from an origin TOYBOX_URL does not list. */
export const BANNER_REFUSED = 'banner_refused';

const ORIGIN_SHAPE = /^https?:\/\/[A-Za-z0-9.\-[\]:]{1,200}$/;

/**
 * The page origin a banner request came from: Origin (fetch of /api/notice,
 * crossorigin scripts), else the origin part of Referer (a plain <script
 * src>, sent as the origin alone under the default referrer policy).
 */
export function requestingOrigin(req: http.IncomingMessage): string | null {
  const origin = req.headers.origin;
  if (origin && origin !== 'null') return wellFormed(origin);
  const referer = req.headers.referer;
  if (!referer) return null;
  // The origin is everything before the first '/', '?' or '#' after "scheme://" (wellFormed checks the scheme).
  const start = referer.indexOf('://');
  if (start < 0) return null;
  let end = start + 3;
  while (end < referer.length) {
    const c = referer.charCodeAt(end);
    if (c === 47 || c === 63 || c === 35) break;
    end += 1;
  }
  return wellFormed(referer.slice(0, end));
}

// Nearly every request carries the same one or two origins: remember the last verdict instead of re-running the pattern.
let lastChecked = '';
let lastVerdict: string | null = null;
function wellFormed(origin: string): string | null {
  if (origin !== lastChecked) {
    lastChecked = origin;
    lastVerdict = ORIGIN_SHAPE.test(origin) ? origin : null;
  }
  return lastVerdict;
}

/** Counts a banner load by its page's origin, in memory (see src/sightings). */
export function noteBannerLoad(knex: Knex, req: http.IncomingMessage): void {
  const origin = requestingOrigin(req);
  if (origin) recordSighting(knex, BANNER_ORIGIN, origin);
}

/** The origins the banner was loaded from, most recent first. */
export function bannerOrigins(knex: Knex): Promise<Sighting[]> {
  return readSightings(knex, BANNER_ORIGIN);
}

/** Counts a cross-origin request answered without CORS (its page cannot read the answer), by the page's origin. */
export function noteRefused(knex: Knex, req: http.IncomingMessage): void {
  const origin = requestingOrigin(req);
  if (origin) recordSighting(knex, BANNER_REFUSED, origin);
}

/** The origins refused, most recent first. */
export function refusedOrigins(knex: Knex): Promise<Sighting[]> {
  return readSightings(knex, BANNER_REFUSED);
}
