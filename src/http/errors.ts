/**
 * Errors a handler throws on purpose. Each carries an HTTP status and a
 * message key from the locale files; the error handler renders it as HTML or
 * JSON in the user's language and never shows a stack.
 */
export class HttpError extends Error {
  constructor(
    public readonly status: number,
    public readonly messageKey: string,
    public readonly vars: Record<string, string | number> = {},
    public readonly details?: unknown,
  ) {
    super(messageKey);
  }
}

export const NotFound = (key = 'errors.not_found', vars?: Record<string, string | number>) => new HttpError(404, key, vars);
export const Forbidden = (key = 'errors.forbidden') => new HttpError(403, key);
export const BadRequest = (key = 'errors.bad_request', vars?: Record<string, string | number>, details?: unknown) =>
  new HttpError(400, key, vars, details);
export const Invalid = (details: unknown, key = 'errors.invalid') => new HttpError(422, key, {}, details);
export const Conflict = (key: string, vars?: Record<string, string | number>) => new HttpError(409, key, vars);
export const TooManyRequests = (key: string, vars?: Record<string, string | number>) => new HttpError(429, key, vars);
export const Unavailable = (key = 'errors.unavailable') => new HttpError(503, key);
/** Another run holds the lock: HTTP 409, CLI exit 75 (try again later). */
export class Busy extends HttpError {
  constructor(key: string, vars?: Record<string, string | number>) {
    super(409, key, vars);
  }
}
