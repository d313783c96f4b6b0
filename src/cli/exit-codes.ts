import { Busy, HttpError } from '../http/errors';
import { CliError } from './run-command';

/**
 * The CLI's exit codes, one table for every command (the README's "Exit codes"
 * table says the same, and test/integration/cli-exit-codes.test.ts holds them to it).
 */
export const EXIT = {
  ok: 0,
  /** The command ran and the work failed (a backup failed, a verification found damage). */
  failed: 1,
  /** Bad input: a malformed option, value, file or environment variable. Nothing was changed. */
  invalid: 2,
  /** Refused: the current state does not allow it (duplicate, closed, paused, real data present). Nothing was changed. */
  refused: 3,
  /** No such thing: an unknown id, user or account. Nothing was changed. */
  notFound: 4,
  /** A service the command needs (the database, SMTP) is unreachable. */
  unavailable: 69,
  /** Busy: another run holds the lock; try again later. */
  busy: 75,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', '57P03']);

/** Maps any error a command throws to its exit code: the same kinds the HTTP side maps to statuses. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof Busy) return EXIT.busy;
  if (err instanceof HttpError) {
    if (err.status === 404) return EXIT.notFound;
    if (err.status === 409 || err.status === 403) return EXIT.refused;
    if (err.status === 429) return EXIT.busy;
    if (err.status === 503) return EXIT.unavailable;
    if (err.status >= 400 && err.status < 500) return EXIT.invalid;
    return EXIT.failed;
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return EXIT.unavailable;
  return EXIT.failed;
}
