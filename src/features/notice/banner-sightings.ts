import type http from 'node:http';
import type { Knex } from 'knex';
import { readSightings, recordSighting, type Sighting } from '../../sightings';

export const BANNER_ORIGIN = 'banner_origin';

const ORIGIN_SHAPE = /^https?:\/\/[A-Za-z0-9.\-[\]:]{1,200}$/;

/**
 * The page origin a banner request came from: Origin (fetch of /api/notice,
 * crossorigin scripts), else the origin part of Referer (a plain <script
 * src>, sent as the origin alone under the default referrer policy).
 */
export function requestingOrigin(req: http.IncomingMessage): string | null {
  const origin = req.headers.origin;
  if (origin && origin !== 'null') return ORIGIN_SHAPE.test(origin) ? origin : null;
  const referer = req.headers.referer;
  if (!referer) return null;
  const m = /^(https?:\/\/[^/?#]+)/.exec(referer);
  return m && ORIGIN_SHAPE.test(m[1]!) ? m[1]! : null;
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
