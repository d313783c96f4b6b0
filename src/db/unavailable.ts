/**
 * Whether an error means "PostgreSQL cannot answer right now" (down, hung,
 * restarting, out of connections, a statement cut by its timeout) rather
 * than a bug: pages answer those with 503 and Retry-After, not 500.
 * node-postgres reports a few of them without a code, so their messages are
 * listed here, in this one place.
 */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);
// SQLSTATE classes 08 (connection exception) and 57 (operator intervention: shutdown, statement timeout), and 53300 too_many_connections.
const SQLSTATE = /^(08\w{3}|57\w{3}|53300)$/;
const PG_MESSAGES = [
  'Connection terminated',
  'Query read timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Connection terminated due to connection timeout',
];

export function isDatabaseUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { name?: string; code?: string; message?: string; errors?: unknown[]; cause?: unknown };
  if (e.name === 'KnexTimeoutError') return true;
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || SQLSTATE.test(e.code))) return true;
  if (typeof e.message === 'string' && PG_MESSAGES.some((m) => e.message!.startsWith(m))) return true;
  // AggregateError (a connection refused on both IPv4 and IPv6), or a wrapped cause.
  if (Array.isArray(e.errors) && e.errors.some(isDatabaseUnavailable)) return true;
  return e.cause !== undefined && e.cause !== err && isDatabaseUnavailable(e.cause);
}
