/**
 * URLs as they may appear in logs. One-time and signed tokens travel in
 * paths (`/export/link/<token>`, `/r/<token>`, `/u/<token>`) and query
 * strings (`?sig=`), and a log line must never let a reader spend them:
 * the query string goes, the segment after a token prefix goes, and so does
 * any other segment long enough to be a token (ids and page names are short).
 */
const TOKEN_PREFIXES = ['/export/link/', '/r/', '/u/'];
const TOKEN_LIKE = /^[A-Za-z0-9._~%-]{20,}$/;
export const REDACTED = '[redacted]';

export function redactRequestPath(url: string): string {
  const path = url.split('?')[0]!.split('#')[0]!;
  for (const prefix of TOKEN_PREFIXES) {
    if (path.startsWith(prefix) && path.length > prefix.length) {
      const rest = path.slice(prefix.length).split('/');
      rest[0] = REDACTED;
      return redactLongSegments(prefix + rest.join('/'));
    }
  }
  return redactLongSegments(path);
}

function redactLongSegments(path: string): string {
  return path
    .split('/')
    .map((segment) => (TOKEN_LIKE.test(segment) ? REDACTED : segment))
    .join('/');
}
